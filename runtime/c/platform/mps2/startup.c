/*===- startup.c - Start-up code for QEMU's MPS2/MPS3 boards ----*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Vector table and reset handler for programs that run under
 * qemu-system-arm on mps2-an386 (Cortex-M4), mps2-an500 (Cortex-M7) and
 * mps3-an547 (Cortex-M55), linked with newlib's semihosting C library
 * (--specs=rdimon.specs). The reset handler enables the FPU (CP10/CP11 full
 * access in CPACR; on the M55 this also enables MVE), then calls newlib's
 * _start, which zeroes .bss, sets up the heap, runs constructors and calls
 * main; main's return value reaches exit(), which semihosting turns into
 * QEMU's exit status. .data is loaded in place by QEMU's ELF loader (the
 * linker scripts keep its load address equal to its run address), so no
 * copy loop is needed. Faults print nothing: they stop the program with a
 * semihosting exit status of 99 so that a test fails instead of hanging.
 *===----------------------------------------------------------------------===*/

#include "kiln_mps2.h"

#include <stdint.h>

/** Top of the initial stack (end of RAM), from the linker script. */
extern uint32_t __stack_top;

/** newlib's C start-up (crt0). */
extern void _start(void);

/** Reset: enable the FPU, then start the C library. */
void kiln_mps2_reset_handler(void);

/** Any unexpected exception or interrupt. */
void kiln_mps2_fault_handler(void);

void kiln_mps2_reset_handler(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* CPACR (0xE000ED88): CP10 and CP11 full access. */
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  _start();
  kiln_mps2_exit(0);
}

void kiln_mps2_fault_handler(void) { kiln_mps2_exit(99); }

/** One vector table entry: the initial stack pointer or a handler. */
typedef union kiln_mps2_vector {
  void *stack;
  void (*handler)(void);
} kiln_mps2_vector_t;

/** The vector table: 16 system exceptions and 32 external interrupts, all
 * but reset routed to the fault handler (no interrupts are enabled). */
__attribute__((section(".vectors"), used))
const kiln_mps2_vector_t kiln_mps2_vectors[48] = {
    {.stack = &__stack_top},
    {.handler = kiln_mps2_reset_handler},
    {.handler = kiln_mps2_fault_handler}, /* NMI */
    {.handler = kiln_mps2_fault_handler}, /* HardFault */
    {.handler = kiln_mps2_fault_handler}, /* MemManage */
    {.handler = kiln_mps2_fault_handler}, /* BusFault */
    {.handler = kiln_mps2_fault_handler}, /* UsageFault */
    {.handler = kiln_mps2_fault_handler}, /* SecureFault (v8-M) */
    {.handler = 0},
    {.handler = 0},
    {.handler = 0},
    {.handler = kiln_mps2_fault_handler}, /* SVCall */
    {.handler = kiln_mps2_fault_handler}, /* DebugMonitor */
    {.handler = 0},
    {.handler = kiln_mps2_fault_handler}, /* PendSV */
    {.handler = kiln_mps2_fault_handler}, /* SysTick */
#define KILN_MPS2_IRQ8                                                         \
  {.handler = kiln_mps2_fault_handler}, {.handler = kiln_mps2_fault_handler},  \
      {.handler = kiln_mps2_fault_handler},                                    \
      {.handler = kiln_mps2_fault_handler},                                    \
      {.handler = kiln_mps2_fault_handler},                                    \
      {.handler = kiln_mps2_fault_handler},                                    \
      {.handler = kiln_mps2_fault_handler}, {                                  \
    .handler = kiln_mps2_fault_handler                                         \
  }
    KILN_MPS2_IRQ8,
    KILN_MPS2_IRQ8,
    KILN_MPS2_IRQ8,
    KILN_MPS2_IRQ8};
#undef KILN_MPS2_IRQ8
