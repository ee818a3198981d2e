/* The linear recurrence h_t = a_t * h_{t-1} + b_t as one pass over time, in C.
 *
 * Arrays are (T, D), row-major: step t of channel d is at [t * D + d]. Each step's D channels
 * are independent, so the compiler vectorises the inner loops; the outer loop over time is the
 * recurrence. The file is compiled twice, with `real` a float and a double
 * (rnncourse/models/scan_kernel.py builds and loads it).
 */

#ifndef REAL
#define REAL float
#endif
typedef REAL real;

/* h_t = a_t * h_{t-1} + b_t for t = 1 .. T (rows 0 .. T-1), from h_0 = initial (D values). */
void scan_forward(const real *restrict a, const real *restrict b, const real *restrict initial,
                  real *restrict h, long T, long D)
{
    for (long t = 0; t < T; t++) {
        const real *before = t > 0 ? h + (t - 1) * D : initial;  /* h_{t-1} */
        const real *a_t = a + t * D, *b_t = b + t * D;
        real *h_t = h + t * D;
        for (long d = 0; d < D; d++)
            h_t[d] = a_t[d] * before[d] + b_t[d];
    }
}

/* The backward pass, one pass backwards in time. With g_t = dL/dh_t given from outside, the
 * gradient through every later step is lambda_t = g_t + a_{t+1} * lambda_{t+1} (lambda_T = g_T);
 * then dL/db_t = lambda_t, dL/da_t = lambda_t * h_{t-1} and dL/dh_0 = a_1 * lambda_1. */
void scan_backward(const real *restrict a, const real *restrict grad, const real *restrict h,
                   const real *restrict initial, real *restrict grad_a, real *restrict grad_b,
                   real *restrict grad_initial, long T, long D)
{
    for (long t = T - 1; t >= 0; t--) {
        const real *before = t > 0 ? h + (t - 1) * D : initial;  /* h_{t-1} */
        const real *g_t = grad + t * D;
        real *lambda_t = grad_b + t * D, *grad_a_t = grad_a + t * D;
        if (t == T - 1) {
            for (long d = 0; d < D; d++) {
                lambda_t[d] = g_t[d];
                grad_a_t[d] = g_t[d] * before[d];
            }
        } else {
            const real *a_next = a + (t + 1) * D, *lambda_next = grad_b + (t + 1) * D;
            for (long d = D - 1; d >= 0; d--) {
                real lambda = g_t[d] + a_next[d] * lambda_next[d];
                lambda_t[d] = lambda;
                grad_a_t[d] = lambda * before[d];
            }
        }
    }
    for (long d = 0; d < D; d++)
        grad_initial[d] = a[d] * grad_b[d];
}
