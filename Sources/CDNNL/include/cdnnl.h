// C functions over oneDNN's matmul for the runtime's weight products (Sources/Kernels/DNNL.swift):
// a weight prepacked once into the layout oneDNN's kernels ask for, and products with it on the
// calling thread alone. No other target includes dnnl.h.
#ifndef CDNNL_H
#define CDNNL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The arithmetic of a weight's products.
enum {
    CDNNL_F32 = 0,   // a f32 (m, k), w f32, c f32
    CDNNL_BF16 = 1,  // a bf16 bit patterns (m, k), w bf16, c f32 (fp32 accumulation)
    CDNNL_U8S8 = 2,  // a u8 (m, k), w s8, c s32 (dense, ldc = n; accumulate unsupported)
};

/// A weight w (n, k), row j at w + j·ldw in the kind's weight type, prepacked once; products
/// write c in rows of ldc. Safe to use from several threads at once.
typedef struct cdnnl_weight cdnnl_weight;

/// NULL on failure, with a one-line reason in `error`.
cdnnl_weight *cdnnl_weight_create(int kind, int64_t n, int64_t k, const void *w, int64_t ldw, int64_t ldc,
                                  char *error, size_t error_size);

/// c (m, n) = a (m, k) · wᵀ, or c += it when `accumulate`; a dense (lda = k). Runs on the calling
/// thread only. Returns 0, or -1 with a one-line reason in `error`.
int cdnnl_multiply(cdnnl_weight *weight, int64_t m, const void *a, void *c, int accumulate,
                   char *error, size_t error_size);

/// What `cdnnl_multiply_with` does around the product (f32 and bf16 kinds only), or-ed.
enum {
    CDNNL_ACCUMULATE = 1,       // c += …
    CDNNL_BIAS = 2,             // the product plus bias (n floats), before the activation
    CDNNL_GELU_ERF = 4,         // then act: GELU (erf), its tanh form, or ReLU (one of the three)
    CDNNL_GELU_TANH = 8,
    CDNNL_RELU = 12,
    CDNNL_ACTIVATION_MASK = 12,
    CDNNL_BF16_OUTPUT = 16,     // c holds bf16 bit patterns (rounded to nearest even), rows of ldc
};

/// c = act(a · wᵀ + bias) (+ c when CDNNL_ACCUMULATE, added before act) under `flags`; bias
/// non-NULL exactly when CDNNL_BIAS. As cdnnl_multiply otherwise.
int cdnnl_multiply_with(cdnnl_weight *weight, int64_t m, const void *a, void *c, int flags, const float *bias,
                        char *error, size_t error_size);

void cdnnl_weight_destroy(cdnnl_weight *weight);

/// Bytes of the prepacked weight.
size_t cdnnl_weight_bytes(const cdnnl_weight *weight);

/// The implementation oneDNN chose for this weight's products (e.g. "brg:avx512_core_vnni").
const char *cdnnl_weight_implementation(const cdnnl_weight *weight);

// c (m, n) = alpha · op(a) · op(b) + beta · c, row-major, a and b bf16 bit patterns, c f32
// (fp32 accumulation): oneDNN's gemm on the calling thread (the training products in bf16).
// op(a) is a (m, k) with rows of lda, or aᵀ with a stored (k, m) when transa; likewise b.
int cdnnl_gemm_bf16(int transa, int transb, int64_t m, int64_t n, int64_t k, float alpha,
                    const uint16_t *a, int64_t lda, const uint16_t *b, int64_t ldb, float beta,
                    float *c, int64_t ldc, char *error, size_t error_size);

/// oneDNN's version, "2.6.3".
const char *cdnnl_version(void);

/// Whether oneDNN's kernels here reach at least avx512_core_bf16 / avx512_core_vnni.
int cdnnl_has_bf16(void);
int cdnnl_has_vnni(void);
/// Whether this CPU (and its OS) runs AVX-512 (F, CD, BW, DQ, VL: avx512_core) / AVX2.
int cdnnl_has_avx512_core(void);
int cdnnl_has_avx2(void);

#ifdef __cplusplus
}
#endif
#endif
