/* Probe code for `hwslice doctor`: a child runs hwslice_probe_main under
 * ptrace, and the tracer acts at each numbered ebreak (probe point). The
 * instruction counts between points are fixed by this file, so counter
 * readings can be checked against exact expected values:
 *   point 3 -> 4, 4 -> 5 and 5 -> 6: 1 + 2 * 1000 = 2001 instructions each.
 * Counters are measured in separate stretches because a PMU may have a single
 * counter able to count instructions (events that cannot be scheduled read 0).
 * Keep in sync with kProbeLoopInstructions in capability_probe.cc. */
    .option norvc
    .text
    .globl hwslice_probe_main
    .type hwslice_probe_main, @function
    .balign 4
hwslice_probe_main:
    /* syscall stops: getpid with recognisable arguments */
    li a0, 0x4857
    li a1, 0x534c
    li a7, 172
    ecall
    ebreak                      /* point 1: software single-step follows */
    li a0, 0
    addi a0, a0, 1
    .option push
    .option rvc
    c.addi a0, 1
    .option pop
    addi a0, a0, 1
    .option push
    .option rvc
    c.addi a0, 1
    .option pop
    ebreak                      /* point 2: injection, then the page is protected */
    lla t0, hwslice_probe_page
    ld a0, 0(t0)                /* faults once while the page is PROT_NONE */
    ebreak                      /* point 3: counters start */
    li t1, 1000
1:  addi t1, t1, -1
    bnez t1, 1b
    ebreak                      /* point 4 */
    li t1, 1000
2:  addi t1, t1, -1
    bnez t1, 2b
    ebreak                      /* point 5 */
    li t1, 1000
3:  addi t1, t1, -1
    bnez t1, 3b
    ebreak                      /* point 6: overflow counter starts */
    li t1, 500000
4:  addi t1, t1, -1
    bnez t1, 4b
    ebreak                      /* point 7 */
    ret
    .size hwslice_probe_main, . - hwslice_probe_main

    .globl hwslice_probe_rdinstret
    .type hwslice_probe_rdinstret, @function
hwslice_probe_rdinstret:
    rdinstret a0
    ret
    .globl hwslice_probe_rdcycle
    .type hwslice_probe_rdcycle, @function
hwslice_probe_rdcycle:
    rdcycle a0
    ret
    .globl hwslice_probe_rdtime
    .type hwslice_probe_rdtime, @function
hwslice_probe_rdtime:
    rdtime a0
    ret

    /* A page of its own, so protecting it touches nothing else. */
    .data
    .balign 4096
    .globl hwslice_probe_page
hwslice_probe_page:
    .dword 0x6877736c69636521
    .zero 4088
    .balign 4096

    .section .note.GNU-stack,"",@progbits
