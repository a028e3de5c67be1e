// oneDNN matmul behind the functions of cdnnl.h. A weight is reordered once into the layout
// that the primitive for 256 rows asks for (format_tag_any; oneDNN's brgemm kernels ask for
// the same one at every row count, checked as each primitive is made). A product of m rows
// runs as pieces of 256, 128, ..., 1 rows, one primitive per piece size made on first use:
// oneDNN's matmul with the row count given at run time falls back to its slower gemm:jit.
// Primitives of equal shape are shared by oneDNN's own primitive cache.
#include "cdnnl.h"

#include <dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void omp_set_num_threads(int);

enum { LEVELS = 9, TOP = 256 };  // pieces of 256 >> level rows
enum { VARIANTS = 32 };            // every combination of the CDNNL_ flags

typedef struct {
    dnnl_primitive_t primitive;
    dnnl_memory_desc_t scratch;
    size_t scratch_bytes;
} entry;

struct cdnnl_weight {
    int kind;
    int64_t n, k, ldc;
    dnnl_data_type_t ta, tw, tc;
    dnnl_memory_desc_t layout;
    dnnl_memory_t packed;
    size_t bytes;
    char implementation[64];
    _Atomic(entry *) entries[VARIANTS][LEVELS];  // [flags][level]
};

static dnnl_engine_t engine;
static dnnl_status_t engine_status;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void make_engine(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

// Each calling thread: its stream and scratchpad, and one OpenMP thread for oneDNN (the
// runtime's workers are the parallelism; oneDNN sizes a primitive by the creating thread's count).
typedef struct {
    dnnl_stream_t stream;
    void *scratch;
    size_t capacity;
} thread_state;
static pthread_key_t state_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static void free_state(void *p) {
    thread_state *s = p;
    if (s->stream) dnnl_stream_destroy(s->stream);
    free(s->scratch);
    free(s);
}
static void make_key(void) { pthread_key_create(&state_key, free_state); }

static int fail(char *error, size_t size, const char *what, dnnl_status_t status) {
    if (error && size) snprintf(error, size, "oneDNN: %s failed (status %d)", what, (int)status);
    return -1;
}
#define TRY(call, what)                                            \
    do {                                                           \
        dnnl_status_t st_ = (call);                                \
        if (st_ != dnnl_success) return fail(error, size, what, st_); \
    } while (0)

static thread_state *state(char *error, size_t size) {
    pthread_once(&key_once, make_key);
    thread_state *s = pthread_getspecific(state_key);
    if (s) return s;
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) {
        fail(error, size, "creating the CPU engine", engine_status);
        return NULL;
    }
    omp_set_num_threads(1);
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    dnnl_status_t st = dnnl_stream_create(&s->stream, engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        free(s);
        fail(error, size, "creating a stream", st);
        return NULL;
    }
    pthread_setspecific(state_key, s);
    return s;
}

static size_t element(dnnl_data_type_t t) { return t == dnnl_bf16 ? 2 : (t == dnnl_u8 || t == dnnl_s8) ? 1 : 4; }

// The output's element type under these flags: bf16 when asked, else the kind's.
static dnnl_data_type_t output_type(const cdnnl_weight *w, int flags) {
    return (flags & CDNNL_BF16_OUTPUT) ? dnnl_bf16 : w->tc;
}

static int descriptors(const cdnnl_weight *w, int64_t m, int flags, dnnl_memory_desc_t *a, dnnl_memory_desc_t *c,
                       char *error, size_t size) {
    dnnl_dims_t ad = {m, w->k}, cd = {m, w->n}, cs = {w->ldc, 1};
    TRY(dnnl_memory_desc_init_by_tag(a, 2, ad, w->ta, dnnl_ab), "describing the input");
    TRY(dnnl_memory_desc_init_by_strides(c, 2, cd, output_type(w, flags), cs), "describing the output");
    return 0;
}

static int bias_descriptor(const cdnnl_weight *w, dnnl_memory_desc_t *b, char *error, size_t size) {
    dnnl_dims_t bd = {1, w->n};
    TRY(dnnl_memory_desc_init_by_tag(b, 2, bd, dnnl_f32, dnnl_ab), "describing the bias");
    return 0;
}

// The post-ops of these flags, in oneDNN's order: the old output added (sum), then the
// activation; the bias is the matmul's own, added to the product before either.
static dnnl_status_t post_ops(int flags, dnnl_post_ops_t *ops) {
    *ops = NULL;
    int activation = flags & CDNNL_ACTIVATION_MASK;
    if (!(flags & CDNNL_ACCUMULATE) && !activation) return dnnl_success;
    dnnl_status_t st = dnnl_post_ops_create(ops);
    if (st == dnnl_success && (flags & CDNNL_ACCUMULATE)) st = dnnl_post_ops_append_sum(*ops, 1.0f);
    if (st == dnnl_success && activation) {
        dnnl_alg_kind_t alg = activation == CDNNL_GELU_ERF ? dnnl_eltwise_gelu_erf
                              : activation == CDNNL_GELU_TANH ? dnnl_eltwise_gelu_tanh : dnnl_eltwise_relu;
        st = dnnl_post_ops_append_eltwise(*ops, 1.0f, alg, 0.0f, 0.0f);
    }
    return st;
}

// The primitive descriptor for m rows under these flags; its weights' layout in *layout.
static int describe(cdnnl_weight *w, int64_t m, int flags, dnnl_primitive_desc_t *pd, char *error, size_t size) {
    dnnl_memory_desc_t amd, wmd, cmd, bmd;
    if (descriptors(w, m, flags, &amd, &cmd, error, size)) return -1;
    if ((flags & CDNNL_BIAS) && bias_descriptor(w, &bmd, error, size)) return -1;
    dnnl_dims_t wd = {w->k, w->n};
    TRY(dnnl_memory_desc_init_by_tag(&wmd, 2, wd, w->tw, dnnl_format_tag_any), "describing the weights");
    dnnl_matmul_desc_t desc;
    TRY(dnnl_matmul_desc_init(&desc, &amd, &wmd, (flags & CDNNL_BIAS) ? &bmd : NULL, &cmd), "describing the matmul");
    dnnl_primitive_attr_t attr;
    TRY(dnnl_primitive_attr_create(&attr), "creating attributes");
    dnnl_status_t st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_post_ops_t ops = NULL;
    if (st == dnnl_success) st = post_ops(flags, &ops);
    if (st == dnnl_success && ops) st = dnnl_primitive_attr_set_post_ops(attr, ops);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return fail(error, size, "creating the matmul for these types, shape and post-ops", st);
    return 0;
}

static entry *get(cdnnl_weight *w, int flags, int level, char *error, size_t size) {
    entry *e = atomic_load_explicit(&w->entries[flags][level], memory_order_acquire);
    if (e) return e;
    dnnl_primitive_desc_t pd;
    if (describe(w, TOP >> level, flags, &pd, error, size)) return NULL;
    const dnnl_memory_desc_t *layout = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (!dnnl_memory_desc_equal(layout, &w->layout)) {
        dnnl_primitive_desc_destroy(pd);
        if (error && size)
            snprintf(error, size, "oneDNN: the matmul for %d rows (flags %d) wants another weight layout", TOP >> level, flags);
        return NULL;
    }
    e = calloc(1, sizeof *e);
    dnnl_status_t st = e ? dnnl_primitive_create(&e->primitive, pd) : dnnl_out_of_memory;
    if (st == dnnl_success) {
        e->scratch = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        e->scratch_bytes = dnnl_memory_desc_get_size(&e->scratch);
    }
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        free(e);
        fail(error, size, "creating the matmul primitive", st);
        return NULL;
    }
    entry *expected = NULL;
    if (!atomic_compare_exchange_strong(&w->entries[flags][level], &expected, e)) {
        dnnl_primitive_destroy(e->primitive);  // another thread made it first
        free(e);
        return expected;
    }
    return e;
}

static int pack(cdnnl_weight *w, const void *source, int64_t ldw, char *error, size_t size) {
    thread_state *s = state(error, size);
    if (!s) return -1;
    dnnl_primitive_desc_t pd;
    if (describe(w, TOP, 0, &pd, error, size)) return -1;
    w->layout = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(w->implementation, sizeof w->implementation, "%s", impl ? impl : "unknown");
    dnnl_primitive_desc_destroy(pd);
    w->bytes = dnnl_memory_desc_get_size(&w->layout);
    TRY(dnnl_memory_create(&w->packed, &w->layout, engine, DNNL_MEMORY_ALLOCATE), "allocating the packed weights");
    dnnl_memory_desc_t user;
    dnnl_dims_t wd = {w->k, w->n}, ws = {1, ldw};  // w (n, k) row-major is (k, n) with strides (1, ldw)
    TRY(dnnl_memory_desc_init_by_strides(&user, 2, wd, w->tw, ws), "describing the source weights");
    dnnl_memory_t from;
    TRY(dnnl_memory_create(&from, &user, engine, (void *)source), "wrapping the source weights");
    dnnl_primitive_desc_t rpd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&rpd, &user, engine, &w->layout, engine, NULL);
    dnnl_primitive_t reorder = NULL;
    if (st == dnnl_success) {
        st = dnnl_primitive_create(&reorder, rpd);
        dnnl_primitive_desc_destroy(rpd);
    }
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, w->packed}};
        st = dnnl_primitive_execute(reorder, s->stream, 2, args);
        if (st == dnnl_success) st = dnnl_stream_wait(s->stream);
    }
    if (reorder) dnnl_primitive_destroy(reorder);
    dnnl_memory_destroy(from);
    if (st != dnnl_success) return fail(error, size, "packing the weights", st);
    return 0;
}

cdnnl_weight *cdnnl_weight_create(int kind, int64_t n, int64_t k, const void *source, int64_t ldw, int64_t ldc,
                                  char *error, size_t size) {
    cdnnl_weight *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->kind = kind;
    w->n = n;
    w->k = k;
    w->ldc = kind == CDNNL_U8S8 ? n : ldc;
    w->ta = kind == CDNNL_F32 ? dnnl_f32 : kind == CDNNL_BF16 ? dnnl_bf16 : dnnl_u8;
    w->tw = kind == CDNNL_F32 ? dnnl_f32 : kind == CDNNL_BF16 ? dnnl_bf16 : dnnl_s8;
    w->tc = kind == CDNNL_U8S8 ? dnnl_s32 : dnnl_f32;
    if (pack(w, source, ldw, error, size) || !get(w, 0, 0, error, size)) {
        cdnnl_weight_destroy(w);
        return NULL;
    }
    return w;
}

int cdnnl_multiply(cdnnl_weight *w, int64_t m, const void *a, void *c, int accumulate, char *error, size_t size) {
    // u8s8 products never accumulate (their int32 output is dequantized after)
    return cdnnl_multiply_with(w, m, a, c, accumulate && w->kind != CDNNL_U8S8 ? CDNNL_ACCUMULATE : 0, NULL, error, size);
}

int cdnnl_multiply_with(cdnnl_weight *w, int64_t m, const void *a, void *c, int flags, const float *bias,
                        char *error, size_t size) {
    thread_state *s = state(error, size);
    if (!s) return -1;
    if (w->kind == CDNNL_U8S8 && flags) {
        if (error && size) snprintf(error, size, "oneDNN: u8s8 products take no post-ops (flags %d)", flags);
        return -1;
    }
    if (flags < 0 || flags >= VARIANTS || ((flags & CDNNL_BIAS) != 0) != (bias != NULL)) {
        if (error && size) snprintf(error, size, "oneDNN: flags %d do not match the bias given", flags);
        return -1;
    }
    dnnl_memory_desc_t bmd;
    if (bias && bias_descriptor(w, &bmd, error, size)) return -1;
    size_t out_element = element(output_type(w, flags));
    const char *ap = a;
    char *cp = c;
    for (int64_t done = 0; done < m;) {
        int64_t rows = TOP;
        int level = 0;
        while (rows > m - done) {
            rows >>= 1;
            level++;
        }
        entry *e = get(w, flags, level, error, size);
        if (!e) return -1;
        if (e->scratch_bytes > s->capacity) {
            void *p = realloc(s->scratch, e->scratch_bytes);
            if (!p) return fail(error, size, "allocating the scratchpad", dnnl_out_of_memory);
            s->scratch = p;
            s->capacity = e->scratch_bytes;
        }
        dnnl_memory_desc_t amd, cmd;
        if (descriptors(w, rows, flags, &amd, &cmd, error, size)) return -1;
        dnnl_memory_t am = NULL, cm = NULL, sm = NULL, bm = NULL;
        dnnl_status_t st = dnnl_memory_create(&am, &amd, engine, (void *)(ap + done * w->k * element(w->ta)));
        if (st == dnnl_success) st = dnnl_memory_create(&cm, &cmd, engine, cp + done * w->ldc * out_element);
        if (st == dnnl_success) st = dnnl_memory_create(&sm, &e->scratch, engine, s->scratch);
        if (st == dnnl_success && bias) st = dnnl_memory_create(&bm, &bmd, engine, (void *)bias);
        if (st == dnnl_success) {
            dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, w->packed}, {DNNL_ARG_DST, cm},
                                      {DNNL_ARG_SCRATCHPAD, sm}, {DNNL_ARG_BIAS, bm}};
            st = dnnl_primitive_execute(e->primitive, s->stream, bias ? 5 : 4, args);
            if (st == dnnl_success) st = dnnl_stream_wait(s->stream);
        }
        if (am) dnnl_memory_destroy(am);
        if (cm) dnnl_memory_destroy(cm);
        if (sm) dnnl_memory_destroy(sm);
        if (bm) dnnl_memory_destroy(bm);
        if (st != dnnl_success) return fail(error, size, "running the matmul", st);
        done += rows;
    }
    return 0;
}

// Exported by libdnnl 2.6 (benchdnn calls it) but declared in its public header only from
// 3.x on, with this signature: row-major, as dnnl_sgemm.
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K, float alpha,
                                    const uint16_t *A, dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
                                    float *C, dnnl_dim_t ldc);

int cdnnl_gemm_bf16(int transa, int transb, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t *a, int64_t lda,
                    const uint16_t *b, int64_t ldb, float beta, float *c, int64_t ldc, char *error, size_t size) {
    if (!state(error, size)) return -1;  // one OpenMP thread for this caller
    TRY(dnnl_gemm_bf16bf16f32(transa ? 'T' : 'N', transb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
        "the bf16 gemm");
    return 0;
}

void cdnnl_weight_destroy(cdnnl_weight *w) {
    if (!w) return;
    for (int f = 0; f < VARIANTS; f++)
        for (int l = 0; l < LEVELS; l++) {
            entry *e = atomic_load(&w->entries[f][l]);
            if (e) {
                dnnl_primitive_destroy(e->primitive);
                free(e);
            }
        }
    if (w->packed) dnnl_memory_destroy(w->packed);
    free(w);
}

size_t cdnnl_weight_bytes(const cdnnl_weight *w) { return w->bytes; }
const char *cdnnl_weight_implementation(const cdnnl_weight *w) { return w->implementation; }

static char version_text[32];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static void format_version(void) {
    const dnnl_version_t *v = dnnl_version();
    snprintf(version_text, sizeof version_text, "%d.%d.%d", v->major, v->minor, v->patch);
}
const char *cdnnl_version(void) {
    pthread_once(&version_once, format_version);
    return version_text;
}

// The ISA values are sets of feature bits: each includes the bits of those it extends.
static int has(dnnl_cpu_isa_t isa) { return ((unsigned)dnnl_get_effective_cpu_isa() & (unsigned)isa) == (unsigned)isa; }
int cdnnl_has_bf16(void) { return has(dnnl_cpu_isa_avx512_core_bf16); }
int cdnnl_has_vnni(void) { return has(dnnl_cpu_isa_avx512_core_vnni); }
int cdnnl_has_avx512_core(void) { return has(dnnl_cpu_isa_avx512_core); }
int cdnnl_has_avx2(void) { return has(dnnl_cpu_isa_avx2); }
