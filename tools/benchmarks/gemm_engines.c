// Matrix-product engines side by side on the encoder's weight products, one thread:
// y (M, N) = x (M, K) · Wᵀ with W stored (N, K) as a PyTorch Linear weight.
// Built three times by tools/benchmarks/gemm_engines (one OpenBLAS per binary: the two
// export the same names):
//   -DENGINE_OPENBLAS    cblas_sgemm of the OpenBLAS it is linked with (Debian's 0.3.21)
//   -DENGINE_OPENBLAS31  cblas_sgemm and cblas_sbgemm of the source-built 0.3.31
//   -DENGINE_ONEDNN      oneDNN matmul f32, bf16 and u8×s8→s32, weights reordered once into
//                        the layout the primitive asks for (format_tag_any); with M fixed
//                        per primitive, and f32 again with M given at run time
// Prints one line per engine and shape: engine, M, K, N, GFLOP/s (best of the repetitions).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const int Ms[] = {1, 8, 64, 256, 1024, 4096};
static const int KNs[][2] = {{384, 384}, {384, 1536}, {1536, 384}, {768, 768}, {768, 3072}, {3072, 768}};
static int rounds = 5;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = ((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
}

// Best GFLOP/s over `rounds` rounds of enough calls for ~30 ms each, after one warm-up call.
#define TIME(flop, call)                                                          \
    do {                                                                          \
        call;                                                                     \
        double t0 = now();                                                        \
        call;                                                                     \
        double one = now() - t0;                                                  \
        int reps = one > 0.03 ? 1 : (int)(0.03 / (one > 1e-7 ? one : 1e-7)) + 1;  \
        double best = 1e30;                                                       \
        for (int r = 0; r < rounds; r++) {                                        \
            double s = now();                                                     \
            for (int i = 0; i < reps; i++) call;                                  \
            double t = (now() - s) / reps;                                        \
            if (t < best) best = t;                                               \
        }                                                                         \
        gflops = (flop) / best * 1e-9;                                            \
    } while (0)

static void report(const char *engine, int M, int K, int N, double gflops) {
    printf("%-28s %5d %5d %5d %8.1f\n", engine, M, K, N, gflops);
    fflush(stdout);
}

#if defined(ENGINE_OPENBLAS) || defined(ENGINE_OPENBLAS31)
#include <cblas.h>
char *openblas_get_corename(void);
#ifdef ENGINE_OPENBLAS31
typedef uint16_t bf16_t;
void cblas_sbgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float,
                  const bf16_t *, int, const bf16_t *, int, float, float *, int);
static void to_bf16(const float *x, bf16_t *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        y[i] = (bf16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    }
}
#endif

int main(int argc, char **argv) {
    if (argc > 1) rounds = atoi(argv[1]);
    openblas_set_num_threads(1);
    const char *core = openblas_get_corename();
    char sname[64];
#ifdef ENGINE_OPENBLAS31
    snprintf(sname, sizeof sname, "openblas31-sgemm/%s", core);
    char bname[64];
    snprintf(bname, sizeof bname, "openblas31-sbgemm/%s", core);
#else
    snprintf(sname, sizeof sname, "openblas21-sgemm/%s", core);
#endif
    for (size_t s = 0; s < sizeof KNs / sizeof KNs[0]; s++) {
        int K = KNs[s][0], N = KNs[s][1];
        for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
            int M = Ms[mi];
            float *a = malloc(sizeof(float) * M * K), *w = malloc(sizeof(float) * N * K), *c = malloc(sizeof(float) * M * N);
            fill(a, (size_t)M * K, 1);
            fill(w, (size_t)N * K, 2);
            double flop = 2.0 * M * N * K, gflops;
            TIME(flop, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, w, K, 0, c, N));
            report(sname, M, K, N, gflops);
#ifdef ENGINE_OPENBLAS31
            bf16_t *ab = malloc(2 * (size_t)M * K), *wb = malloc(2 * (size_t)N * K);
            to_bf16(a, ab, (size_t)M * K);
            to_bf16(w, wb, (size_t)N * K);
            TIME(flop, cblas_sbgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, ab, K, wb, K, 0, c, N));
            report(bname, M, K, N, gflops);
            free(ab);
            free(wb);
#endif
            free(a);
            free(w);
            free(c);
        }
    }
    return 0;
}
#endif

#ifdef ENGINE_ONEDNN
#include <dnnl.h>
#include <omp.h>

#define CHECK(x)                                                                 \
    do {                                                                         \
        dnnl_status_t st_ = (x);                                                 \
        if (st_ != dnnl_success) {                                               \
            fprintf(stderr, "%s:%d: %s: status %d\n", __FILE__, __LINE__, #x, st_); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static dnnl_engine_t eng;
static dnnl_stream_t stream;

// A matmul (M or runtime M, K) × (K, N) → (M, N) in the given types, weights in format_tag_any,
// user scratchpad. Returns the primitive, its weights' layout and the implementation's name.
typedef struct {
    dnnl_primitive_t prim;
    dnnl_memory_desc_t wmd;
    dnnl_memory_t weights, scratch;
    const char *impl;
} matmul_t;

static void *scratch_buf;

static matmul_t make(int64_t M, int K, int N, dnnl_data_type_t ta, dnnl_data_type_t tw, dnnl_data_type_t tc,
                     const void *user_w /* (N, K) in tw */) {
    matmul_t m;
    dnnl_memory_desc_t amd, wmd, cmd, uwmd;
    dnnl_dims_t ad = {M, K}, wd = {K, N}, cd = {M, N};
    CHECK(dnnl_memory_desc_init_by_tag(&amd, 2, ad, ta, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&wmd, 2, wd, tw, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&cmd, 2, cd, tc, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&uwmd, 2, wd, tw, dnnl_ba));
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &amd, &wmd, NULL, &cmd));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, eng, NULL));
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &m.impl));
    m.wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    CHECK(dnnl_memory_create(&m.scratch, smd, eng, scratch_buf));
    CHECK(dnnl_primitive_create(&m.prim, pd));
    // Reorder the user's weights once into the primitive's layout.
    dnnl_memory_t uw;
    CHECK(dnnl_memory_create(&uw, &uwmd, eng, (void *)user_w));
    CHECK(dnnl_memory_create(&m.weights, &m.wmd, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &uwmd, eng, &m.wmd, eng, NULL));
    dnnl_primitive_t r;
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t rargs[] = {{DNNL_ARG_FROM, uw}, {DNNL_ARG_TO, m.weights}};
    CHECK(dnnl_primitive_execute(r, stream, 2, rargs));
    CHECK(dnnl_stream_wait(stream));
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(uw);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return m;
}

static void run(matmul_t *m, int M, int K, int N, dnnl_data_type_t ta, dnnl_data_type_t tc, void *a, void *c) {
    dnnl_memory_desc_t amd, cmd;
    dnnl_dims_t ad = {M, K}, cd = {M, N};
    dnnl_memory_desc_init_by_tag(&amd, 2, ad, ta, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&cmd, 2, cd, tc, dnnl_ab);
    dnnl_memory_t am, cm;
    dnnl_memory_create(&am, &amd, eng, a);
    dnnl_memory_create(&cm, &cmd, eng, c);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, m->weights}, {DNNL_ARG_DST, cm},
                              {DNNL_ARG_SCRATCHPAD, m->scratch}};
    CHECK(dnnl_primitive_execute(m->prim, stream, 4, args));
    dnnl_memory_destroy(am);
    dnnl_memory_destroy(cm);
}

static void release(matmul_t *m) {
    dnnl_primitive_destroy(m->prim);
    dnnl_memory_destroy(m->weights);
    dnnl_memory_destroy(m->scratch);
}

static uint16_t bf(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atoi(argv[1]);
    omp_set_num_threads(1);
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
    scratch_buf = malloc(64 << 20);
    const dnnl_version_t *v = dnnl_version();
    fprintf(stderr, "oneDNN %d.%d.%d, isa %d\n", v->major, v->minor, v->patch, (int)dnnl_get_effective_cpu_isa());
    for (size_t s = 0; s < sizeof KNs / sizeof KNs[0]; s++) {
        int K = KNs[s][0], N = KNs[s][1];
        float *w = malloc(sizeof(float) * N * K);
        fill(w, (size_t)N * K, 2);
        uint16_t *wb = malloc(2 * (size_t)N * K);
        int8_t *wq = malloc((size_t)N * K);
        for (size_t i = 0; i < (size_t)N * K; i++) {
            wb[i] = bf(w[i]);
            wq[i] = (int8_t)(w[i] * 127);
        }
        // The layouts asked for at each M, compared with M = 256's (one prepacked copy for all
        // M if equal), and the runtime-M primitive's implementation.
        matmul_t rt = make(DNNL_RUNTIME_DIM_VAL, K, N, dnnl_f32, dnnl_f32, dnnl_f32, w);
        matmul_t rtb = make(DNNL_RUNTIME_DIM_VAL, K, N, dnnl_bf16, dnnl_bf16, dnnl_f32, wb);
        matmul_t rtq = make(DNNL_RUNTIME_DIM_VAL, K, N, dnnl_u8, dnnl_s8, dnnl_s32, wq);
        matmul_t ref[3] = {make(256, K, N, dnnl_f32, dnnl_f32, dnnl_f32, w),
                           make(256, K, N, dnnl_bf16, dnnl_bf16, dnnl_f32, wb),
                           make(256, K, N, dnnl_u8, dnnl_s8, dnnl_s32, wq)};
        fprintf(stderr, "K %d N %d runtime-M impl: f32 %s, bf16 %s, u8s8 %s; fixed-M impl: %s, %s, %s\n", K, N,
                rt.impl, rtb.impl, rtq.impl, ref[0].impl, ref[1].impl, ref[2].impl);
        for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
            int M = Ms[mi];
            float *a = malloc(sizeof(float) * M * K), *c = malloc(sizeof(float) * M * N);
            fill(a, (size_t)M * K, 1);
            uint16_t *ab = malloc(2 * (size_t)M * K);
            uint8_t *aq = malloc((size_t)M * K);
            for (size_t i = 0; i < (size_t)M * K; i++) {
                ab[i] = bf(a[i]);
                aq[i] = (uint8_t)(a[i] * 127 + 128);
            }
            double flop = 2.0 * M * N * K, gflops;
            const char *names[3] = {"onednn-f32", "onednn-bf16", "onednn-u8s8"};
            dnnl_data_type_t ta[3] = {dnnl_f32, dnnl_bf16, dnnl_u8}, tw[3] = {dnnl_f32, dnnl_bf16, dnnl_s8},
                             tc[3] = {dnnl_f32, dnnl_f32, dnnl_s32};
            const void *ws[3] = {w, wb, wq};
            void *as[3] = {a, ab, aq};
            for (int e = 0; e < 3; e++) {
                double t0 = now();
                matmul_t m = make(M, K, N, ta[e], tw[e], tc[e], ws[e]);
                double created = now() - t0;
                int same = dnnl_memory_desc_equal(&m.wmd, &ref[e].wmd);
                TIME(flop, run(&m, M, K, N, ta[e], tc[e], as[e], c));
                report(names[e], M, K, N, gflops);
                fprintf(stderr, "%s M %d K %d N %d: %s, created and weights reordered in %.2f ms, layout %s M=256's\n",
                        names[e], M, K, N, m.impl, 1e3 * created, same ? "equals" : "DIFFERS from");
                release(&m);
            }
            TIME(flop, run(&rt, M, K, N, dnnl_f32, dnnl_f32, a, c));
            report("onednn-f32-runtimeM", M, K, N, gflops);
            TIME(flop, run(&rtb, M, K, N, dnnl_bf16, dnnl_f32, ab, c));
            report("onednn-bf16-runtimeM", M, K, N, gflops);
            TIME(flop, run(&rtq, M, K, N, dnnl_u8, dnnl_s32, aq, c));
            report("onednn-u8s8-runtimeM", M, K, N, gflops);
            free(a);
            free(c);
            free(ab);
            free(aq);
        }
        release(&rt);
        release(&rtb);
        release(&rtq);
        for (int e = 0; e < 3; e++) release(&ref[e]);
        free(w);
        free(wb);
        free(wq);
    }
    return 0;
}
#endif
