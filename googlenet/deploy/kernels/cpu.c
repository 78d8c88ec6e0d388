/* Whether this CPU runs the other files' instructions: they are built with -mavx512f,
 * and this function, which uses none, is called before any of them. */
int kernels_cpu_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}
