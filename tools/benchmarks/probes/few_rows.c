// A few-rows fp32 kernel of our own against OpenBLAS's small kernels, one thread: c (23, n) =
// a (23, k) · wᵀ, w stored (n, k) as a Linear's weight, dot products along k (16 lanes), six
// rows by four weight rows per tile, w read in place. "copies" > 1 cycles through that many
// distinct weights, so they come from memory (cold) as in a lone sentence's call; 1 keeps them
// in cache (hot). README (Performance, 2026-12-07, second session) cites it: hot 109-112 GF/s
// against OpenBLAS's 96-99 (16 columns per call, as Gemm.multiplyWeight); cold about the same
// (51-69 against 53-64), and 65-80 with a prefetch of the weight rows eight rows ahead (not in
// this file). In the runtime, where Gemm.touch reads the next block first, a lone sentence's
// p50 did not change (3.88-4.05 ms against 3.81-3.92, alternated), so it was not taken.
//   clang -O2 tools/benchmarks/probes/few_rows.c -o /tmp/few_rows -lopenblas \
//      -I/usr/include/x86_64-linux-gnu/openblas-pthread
//   /tmp/few_rows 192 384 1; /tmp/few_rows 192 384 400; /tmp/few_rows 192 1536 100
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq,fma")))


/// The four sums of one row's four accumulators (each sixteen partial sums), as four floats.
AVX512 static inline __m128 sum4(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
    // Pairwise: unpack and add twice leaves, in every 128-bit lane, [s0, s1, s2, s3] partials.
    __m512 a = _mm512_add_ps(_mm512_unpacklo_ps(x0, x1), _mm512_unpackhi_ps(x0, x1));  // x0 x1 x0 x1
    __m512 b = _mm512_add_ps(_mm512_unpacklo_ps(x2, x3), _mm512_unpackhi_ps(x2, x3));  // x2 x3 x2 x3
    __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/// One tile: rows i..i+MR of c, columns j..j+4.
#define TILE(MR)                                                                                   \
    AVX512 static inline void tile##MR(const float *a, const float *w, float *c, int k, float beta,   \
                                       int lda, int ldw, int ldc) {                                \
        __m512 acc[MR][4];                                                                         \
        for (int r = 0; r < MR; r++)                                                               \
            for (int q = 0; q < 4; q++) acc[r][q] = _mm512_setzero_ps();                           \
        for (int p = 0; p < k; p += 16) {                                                          \
            __m512 w0 = _mm512_loadu_ps(w + p), w1 = _mm512_loadu_ps(w + ldw + p);                 \
            __m512 w2 = _mm512_loadu_ps(w + 2 * ldw + p), w3 = _mm512_loadu_ps(w + 3 * ldw + p);   \
            for (int r = 0; r < MR; r++) {                                                         \
                __m512 x = _mm512_loadu_ps(a + r * lda + p);                                       \
                acc[r][0] = _mm512_fmadd_ps(x, w0, acc[r][0]);                                     \
                acc[r][1] = _mm512_fmadd_ps(x, w1, acc[r][1]);                                     \
                acc[r][2] = _mm512_fmadd_ps(x, w2, acc[r][2]);                                     \
                acc[r][3] = _mm512_fmadd_ps(x, w3, acc[r][3]);                                     \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < MR; r++) {                                                             \
            __m128 s = sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);                           \
            float *out = c + r * ldc;                                                              \
            if (beta != 0) s = _mm_add_ps(s, _mm_loadu_ps(out));                                   \
            _mm_storeu_ps(out, s);                                                                 \
        }                                                                                          \
    }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6)

AVX512 static void few_rows(const float *a, const float *w, float *c, int m, int n, int k,
                            float beta, int lda, int ldw, int ldc) {
    // Four weight rows (6 KB at k 384) stay in L1 while every row tile of a passes over them.
    for (int j = 0; j < n; j += 4) {
        const float *wj = w + (long)j * ldw;
        int i = 0;
        for (; i + 6 <= m; i += 6) tile6(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc);
        switch (m - i) {
        case 5: tile5(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc); break;
        case 4: tile4(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc); break;
        case 3: tile3(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc); break;
        case 2: tile2(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc); break;
        case 1: tile1(a + (long)i * lda, wj, c + (long)i * ldc + j, k, beta, lda, ldw, ldc); break;
        default: break;
        }
    }
}

int cgemm_few_rows(const float *a, const float *w, float *c, int m, int n, int k,
                   float beta, int lda, int ldw, int ldc) {
    if (m <= 0 || n % 4 != 0 || k % 16 != 0 || k == 0 || (beta != 0 && beta != 1)) return 0;
    few_rows(a, w, c, m, n, k, beta, lda, ldw, ldc);
    return 1;
}

static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
void openblas_set_num_threads(int);
int main(int argc,char**argv){
  openblas_set_num_threads(1);
  int m=23,n=atoi(argv[1]),k=atoi(argv[2]); long big=atol(argv[3]); // big: number of distinct weight copies (cold)
  float*a=malloc(4L*m*k),*c=malloc(4L*m*n),*c2=malloc(4L*m*n); float*w=malloc(4L*n*k*big);
  for(long i=0;i<(long)m*k;i++)a[i]=(i%17)*0.01f; for(long i=0;i<(long)n*k*big;i++)w[i]=(i%13)*0.01f;
  int R=2000; double t0,best1=1e9,best2=1e9;
  for(int rep=0;rep<3;rep++){
  t0=now(); for(int r=0;r<R;r++){ cgemm_few_rows(a,w+(r%big)*(long)n*k,c,m,n,k,0,k,k,n);} double t=now()-t0; if(t<best1)best1=t;
  t0=now(); for(int r=0;r<R;r++){ float*wb=w+(r%big)*(long)n*k; for(int j=0;j<n;j+=16) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,m,16,k,1,a,k,wb+(long)j*k,k,0,c2+j,n);} t=now()-t0; if(t<best2)best2=t;}
  double fl=2.0*m*n*k*R;
  double e=0; for(int i=0;i<m*n;i++){double d=c[i]-c2[i]; if(d<0)d=-d; if(d>e)e=d;}
  printf("n %d k %d copies %ld: ours %.1f GF/s, openblas16 %.1f GF/s, max diff %g\n",n,k,big,fl/best1*1e-9,fl/best2*1e-9,e);
}
