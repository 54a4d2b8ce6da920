/* Thread contexts for checkpoint and restart (x86_64, System V ABI).
 * ctx_save stores what a function call must preserve (rbx rbp r12-r15), the
 * stack pointer after return and the return address; ctx_restore resumes it.
 * Unlike setjmp/longjmp there is no pointer mangling and no signal mask work:
 * the mask and every other register live in the signal frame of the suspended
 * thread and come back with rt_sigreturn. Async-signal-safe. */
        .text
        .globl ctx_save
        .hidden ctx_save
        .type ctx_save, @function
ctx_save:
        movq %rbx, 0(%rdi)
        movq %rbp, 8(%rdi)
        movq %r12, 16(%rdi)
        movq %r13, 24(%rdi)
        movq %r14, 32(%rdi)
        movq %r15, 40(%rdi)
        leaq 8(%rsp), %rdx
        movq %rdx, 48(%rdi)
        movq (%rsp), %rdx
        movq %rdx, 56(%rdi)
        xorl %eax, %eax
        ret
        .size ctx_save, .-ctx_save

        .globl ctx_restore
        .hidden ctx_restore
        .type ctx_restore, @function
ctx_restore:
        movq 0(%rdi), %rbx
        movq 8(%rdi), %rbp
        movq 16(%rdi), %r12
        movq 24(%rdi), %r13
        movq 32(%rdi), %r14
        movq 40(%rdi), %r15
        movq 48(%rdi), %rsp
        movl %esi, %eax
        jmpq *56(%rdi)
        .size ctx_restore, .-ctx_restore

/* long clone_resume(flags, stack, ptid, ctid, tls, ctx)
 * The child never touches the stack it was given: it resumes ctx at once. */
        .globl clone_resume
        .hidden clone_resume
        .type clone_resume, @function
clone_resume:
        movq %rcx, %r10         /* 4th syscall argument; r9 (ctx) survives syscall */
        movl $56, %eax          /* SYS_clone */
        syscall
        testq %rax, %rax
        jnz 1f
        movq %r9, %rdi          /* child */
        movl $1, %esi
        jmp ctx_restore
1:      ret
        .size clone_resume, .-clone_resume

/* long clone3_resume(struct clone_args *args, size_t size, const struct ctx *ctx)
 * clone3 for a thread that resumes ctx with value 1; returns the new tid, or
 * -errno (raw system call: errno is not touched). clone3 starts the child at
 * the instruction after the syscall with rax = 0, its stack pointer at
 * args->stack + args->stack_size (or the caller's if args->stack is 0) and
 * every other register as the caller had it (syscall clobbers only rcx and
 * r11), so ctx travels in r9. The child never touches that stack: it jumps
 * (not calls) into ctx_restore, which loads the thread's own stack pointer.
 * Async-signal-safe: one system call, no memory written. */
        .globl clone3_resume
        .hidden clone3_resume
        .type clone3_resume, @function
clone3_resume:
        movq %rdx, %r9          /* ctx: survives the syscall in both tasks */
        movl $435, %eax         /* SYS_clone3 (args in rdi, size in rsi) */
        syscall
        testq %rax, %rax
        jnz 1f
        movq %r9, %rdi          /* child */
        movl $1, %esi
        jmp ctx_restore
1:      ret
        .size clone3_resume, .-clone3_resume

/* long clone_call(flags, stack_top, fn, arg, ctid)
 * Starts fn(arg) in a raw thread on its own stack; the thread exits when fn
 * returns. Used for the compression worker, which glibc must never know of. */
        .globl clone_call
        .hidden clone_call
        .type clone_call, @function
clone_call:
        movq %rcx, %r9          /* arg: survives the syscall in r9 */
        movq %rdx, %r11         /* fn */
        andq $-16, %rsi
        subq $16, %rsi
        movq %r11, (%rsi)       /* the child pops fn from its new stack */
        movq %r8, %r10          /* ctid */
        xorl %edx, %edx         /* ptid */
        xorl %r8d, %r8d         /* tls */
        movl $56, %eax
        syscall
        testq %rax, %rax
        jnz 1f
        popq %rax               /* child: fn */
        movq %r9, %rdi
        andq $-16, %rsp
        callq *%rax
        movl $60, %eax          /* SYS_exit: this thread only */
        xorl %edi, %edi
        syscall
        hlt
1:      ret
        .size clone_call, .-clone_call

        .section .note.GNU-stack,"",@progbits
