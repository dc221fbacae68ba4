/* Minimal Cortex-M4F start-up for running the core tests under QEMU (machine mps2-an386):
 * vector table, reset handler (copy .data, zero .bss, enable the FPU), semihosting I/O, and the
 * test's return value passed to exit() so it becomes QEMU's exit code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern int main(void);
extern void initialise_monitor_handles(void);

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void Reset_Handler(void);
void Fault_Handler(void);

__attribute__((section(".isr_vector"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))(&_estack), /* initial stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Fault_Handler, /* SVC */
    Fault_Handler, /* DebugMon */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};

/* newlib's exit() runs __libc_fini_array, which calls _fini (normally from crti.o, left out by
 * -nostartfiles). Nothing to run here. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

void Fault_Handler(void)
{
    exit(98); /* a fault is a failed run, never a hang */
}

void Reset_Handler(void)
{
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    memcpy(&_sdata, &_sidata, (size_t)((uint8_t *)&_edata - (uint8_t *)&_sdata));
    memset(&_sbss, 0, (size_t)((uint8_t *)&_ebss - (uint8_t *)&_sbss));
    *cpacr |= 0xFu << 20; /* CP10, CP11 full access: the FPU, before any float instruction */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    initialise_monitor_handles();
    exit(main());
}
