/*===- semihost.c - Semihosting calls for the MPS2/MPS3 boards --*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Arm semihosting from M-profile code: BKPT 0xAB with the operation in r0
 * and its argument in r1. QEMU implements it with -semihosting.
 *===----------------------------------------------------------------------===*/

#include "kiln_mps2.h"

#include <stdint.h>

/** Semihosting operation numbers and the "application exit" reason. */
enum {
  KILN_SYS_WRITE0 = 0x04,
  KILN_SYS_EXIT_EXTENDED = 0x20,
  KILN_ADP_STOPPED_APPLICATION_EXIT = 0x20026
};

/** Issues semihosting operation |op| with argument |arg|; returns r0. */
static uint32_t semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void kiln_mps2_exit(int status) {
  const uint32_t block[2] = {KILN_ADP_STOPPED_APPLICATION_EXIT,
                             (uint32_t)status};
  semihost(KILN_SYS_EXIT_EXTENDED, block);
  for (;;) {
  }
}

void kiln_mps2_puts(const char *text) { semihost(KILN_SYS_WRITE0, text); }
