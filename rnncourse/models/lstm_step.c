/* One LSTM step's element-wise work, forward and backward, as one C function each.
 *
 * The matrix products of a step run in oneDNN; what is left is a dozen element-wise operations
 * on (B, 4H) and (B, H) arrays. As separate PyTorch operations each reads and writes memory and
 * costs a call from Python; here each step is one pass over its numbers and one call.
 * Arrays are row-major: gates (B, 4H) hold the four gates of unit j of row b at
 * [b * 4H + q * H + j] for q = 0 .. 3 (i, f, g, o, the order of torch.nn.LSTM); states (B, H) at
 * [b * H + j]. The inner loops run over j, so the compiler vectorises them. The file is compiled
 * twice, with `real` a float and a double (rnncourse/models/lstm_step_kernel.py builds it).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef REAL
#define REAL float
#endif
typedef REAL real;

/* e^x in float, in a form the compiler can vectorise (the C library's expf is one call per
 * number). x = n ln 2 + r with n an integer and |r| <= ln(2)/2, so e^x = 2^n e^r: e^r from its
 * Taylor polynomial (Cephes' coefficients, error about 1 unit in the last place), 2^n written
 * straight into the exponent bits of a float. x is clamped to [-87, 88], where 2^n is a normal
 * float; outside, sigmoid and tanh are 0, 1 or -1 to float precision anyway. */
static inline float exp_float(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* Adding 1.5 * 2^23 rounds x / ln 2 to an integer n, which then sits in the low bits of
     * the sum's mantissa: n is read from there as an integer, with no conversion of a float. */
    const float round_shift = 12582912.0f;
    float shifted = x * 1.44269504088896341f + round_shift;
    float n = shifted - round_shift; /* n = round(x / ln 2) */
    uint32_t shifted_bits;
    memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
    float r = x - n * 0.693145751953125f; /* r = x - n ln 2, ln 2 in two parts for precision */
    r = r - n * 1.428606765330187045e-06f;
    float p = 1.9875691500e-4f; /* e^r = 1 + r + r^2 (1/2 + r/6 + ...) */
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (shifted_bits - 0x4B400000u + 127u) << 23; /* the float 2^n */
    float two_to_n;
    memcpy(&two_to_n, &bits, sizeof two_to_n);
    return p * two_to_n;
}

/* float: the vectorisable e^x above; double: the C library's exp. */
#define EXP(x) _Generic((x), float: exp_float, default: exp)(x)

static inline real sigmoid(real x) { return 1 / (1 + EXP(-x)); } /* σ(x) = 1 / (1 + e^-x) */
static inline real tanh_(real x) { return 2 / (1 + EXP(-2 * x)) - 1; } /* tanh x = 2σ(2x) - 1 */

/* Step t forward. pre = W_ih x_t + W_hh h_{t-1} (B, 4H), one product of [x_t, h_{t-1}]; bias =
 * b_ih + b_hh (4H; zeros for a layer without biases); c_prev = c_{t-1}. Writes the gates
 * (i, f, g, o) of step t into gates (B, 4H), kept for the backward pass, and c = c_t,
 * tanh_c = tanh c_t and h = h_t (B, H); and h_t again into h_next (rows next_stride apart,
 * beside x_{t+1} for the next product) unless it is NULL. */
void lstm_step_forward(const real *restrict pre, const real *restrict bias,
                       const real *restrict c_prev, real *restrict gates, real *restrict c,
                       real *restrict tanh_c, real *restrict h, real *restrict h_next,
                       long next_stride, long B, long H)
{
    for (long b = 0; b < B; b++) {
        const real *p = pre + b * 4 * H;  /* this row's four pre-activations, without bias */
        real *z = gates + b * 4 * H;
        for (long j = 0; j < H; j++) {
            long u = b * H + j;  /* unit j of row b in the (B, H) arrays */
            real i = sigmoid(p[j] + bias[j]);  /* i_t = σ(W_i [x_t, h_{t-1}] + b_i) */
            real f = sigmoid(p[H + j] + bias[H + j]);  /* f_t, o_t likewise */
            real g = tanh_(p[2 * H + j] + bias[2 * H + j]);  /* g_t = tanh(...) */
            real o = sigmoid(p[3 * H + j] + bias[3 * H + j]);
            real c_t = f * c_prev[u] + i * g;  /* c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t */
            real tanh_c_t = tanh_(c_t);
            z[j] = i, z[H + j] = f, z[2 * H + j] = g, z[3 * H + j] = o;
            c[u] = c_t;
            tanh_c[u] = tanh_c_t;
            h[u] = o * tanh_c_t;  /* h_t = o_t ⊙ tanh c_t */
        }
        if (h_next)
            for (long j = 0; j < H; j++)
                h_next[b * next_stride + j] = h[b * H + j];
    }
}

/* Step t of backpropagation through time. grad_y = ∂L/∂y_t from above; grad_h = δ_{t+1} W_hh
 * and grad_c = ∂L/∂c_t through step t+1 (at t = T, the gradients of h_T and c_T); gates =
 * (i, f, g, o) and tanh_c of step t; c_prev = c_{t-1}. Writes δ_t = ∂L/∂(pre-activations) into
 * delta (B, 4H) and ∂L/∂c_{t-1} into grad_c_prev (B, H); adds δ_t summed over rows to grad_bias
 * (4H, in double: a sum over all T·B rows loses no more than double round-off) unless it is
 * NULL. */
void lstm_step_backward(const real *restrict grad_y, const real *restrict grad_h,
                        const real *restrict grad_c, const real *restrict gates,
                        const real *restrict c_prev, const real *restrict tanh_c,
                        real *restrict delta, real *restrict grad_c_prev,
                        double *restrict grad_bias, long B, long H)
{
    for (long b = 0; b < B; b++) {
        const real *z = gates + b * 4 * H;
        real *d = delta + b * 4 * H;
        for (long j = 0; j < H; j++) {
            long u = b * H + j;
            real i = z[j], f = z[H + j], g = z[2 * H + j], o = z[3 * H + j];
            real dh = grad_y[u] + grad_h[u];  /* dh_t = ∂L/∂y_t + δ_{t+1} W_hh */
            /* dc_t = dc_{t+1} ⊙ f_{t+1} + dh_t ⊙ o_t ⊙ (1 − tanh² c_t) */
            real dc = grad_c[u] + dh * o * (1 - tanh_c[u] * tanh_c[u]);
            d[j] = dc * g * i * (1 - i);  /* δ_i = dc_t ⊙ g_t ⊙ σ'  (σ' = i(1 − i)) */
            d[H + j] = dc * c_prev[u] * f * (1 - f);  /* δ_f = dc_t ⊙ c_{t-1} ⊙ f(1 − f) */
            d[2 * H + j] = dc * i * (1 - g * g);  /* δ_g = dc_t ⊙ i_t ⊙ (1 − g_t²) */
            d[3 * H + j] = dh * tanh_c[u] * o * (1 - o);  /* δ_o = dh_t ⊙ tanh c_t ⊙ o(1 − o) */
            grad_c_prev[u] = dc * f;  /* ∂c_t/∂c_{t-1} = f_t */
        }
        if (grad_bias)  /* ∂L/∂b = Σ_t Σ_rows δ_t */
            for (long k = 0; k < 4 * H; k++)
                grad_bias[k] += d[k];
    }
}
