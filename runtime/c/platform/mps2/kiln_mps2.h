/*===- kiln_mps2.h - Board support for QEMU's MPS2/MPS3 boards --*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Helpers for programs run under qemu-system-arm -semihosting on
 * mps2-an386 (Cortex-M4), mps2-an500 (Cortex-M7) and mps3-an547
 * (Cortex-M55): semihosting exit with a status and console output that need
 * no stdio. The vector table and reset handler are in startup.c; the memory
 * maps are in the an386.ld, an500.ld and an547.ld linker scripts.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_C_PLATFORM_MPS2_KILN_MPS2_H
#define KILN_RUNTIME_C_PLATFORM_MPS2_KILN_MPS2_H

#ifdef __cplusplus
extern "C" {
#endif

/** Stops the program through semihosting SYS_EXIT_EXTENDED: QEMU exits with
 * |status| (0..255). newlib's exit() does the same after flushing stdio. */
void kiln_mps2_exit(int status) __attribute__((noreturn));

/** Writes the NUL-terminated |text| to the semihosting console (SYS_WRITE0),
 * without stdio. */
void kiln_mps2_puts(const char *text);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_RUNTIME_C_PLATFORM_MPS2_KILN_MPS2_H */
