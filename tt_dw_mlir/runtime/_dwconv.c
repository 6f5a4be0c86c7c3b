/* The reference backend's depthwise conv (runtime/reference.py): one pass per layer.
 *
 * The compute kernel's arithmetic, as run_reference_windows writes it out in torch and
 * tt-lang-sim computes it: the input rounded to bf16 (or taken as it is), zero padding,
 * per output value  acc = +0;  acc = acc + (x_k * w_k)  for k in window order (each
 * product rounded to float32, then added: no fused multiply-add, hence -ffp-contract=off),
 * then acc + bias, then relu / relu6, then rounded to bf16 (or not). Subnormals are kept
 * (no -ffast-math, no FTZ/DAZ).
 *
 * NaN: which NaN an add or multiply of two NaNs returns is the compiler's choice of operand
 * order, so the vector loop only tells where a NaN comes out; those outputs are then
 * recomputed one by one with torch's rule on x86 (measured, test_reference pins it): of
 * two NaN operands the second wins, a NaN operand is returned quieted, an invalid
 * operation (inf * 0, inf - inf) gives the default NaN 0xFFC00000. Rounding to bf16 keeps
 * a NaN's sign and makes it 0x7FC0 (blockfloat.to_bfloat16's rule).
 *
 * Layout: NHWC input (float32 or bfloat16 storage) and output (float32); weights
 * (CP / 16, window, 16) and bias (CP) float32, CP = channels rounded up to 16, zero past C.
 * Work = (output row, 16-channel block) pairs, split evenly over `threads` OpenMP threads
 * (torch's own libgomp: reference.py imports torch first, and the loader then binds this
 * module's libgomp.so.1 to the copy already loaded). Each thread keeps the kernel-height
 * input rows it needs, quantised and zero-padded, reading each row once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16

/* x86-64: one copy of the hot function per instruction set, picked at load time (the
 * package is built once, run on any x86-64); elsewhere the compiler's default target.
 * test_reference builds one instruction set at a time by defining PER_TARGET. */
#ifndef PER_TARGET
#if defined(__x86_64__) && defined(__GNUC__)
#define PER_TARGET __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PER_TARGET
#endif
#endif

typedef float vf __attribute__((vector_size(64)));
typedef float vf_u __attribute__((vector_size(64), aligned(4)));
typedef uint32_t vu __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
typedef uint16_t vh __attribute__((vector_size(32)));
typedef uint16_t vh_u __attribute__((vector_size(32), aligned(2)));

enum { QUANT_NONE = 0, QUANT_BF16 = 1 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2 };

/* The geometry reference.py packs once per program (`_geometry`), in this order. */
typedef struct {
    int32_t n, h, w, c, cp, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, quant_in, quant_out, act;
} geometry;

typedef struct {
    geometry g;
    const void *x;
    int x_bf16;
    const float *w, *b;
    float *y;
} conv_args;

/* ---- scalar: bit-level helpers and the exact (NaN-rule) recomputation ---- */

static inline uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float bf16_round(float v) {
    uint32_t u = bits_of(v);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return float_of((u & 0x80000000u) | 0x7FC00000u);
    return float_of((u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u);
}

static inline float quiet(float v) { return float_of(bits_of(v) | 0x00400000u); }
static inline float exact_mul(float a, float b) {
    if (isnan(b)) return quiet(b);
    if (isnan(a)) return quiet(a);
    return a * b;
}
static inline float exact_add(float a, float b) {
    if (isnan(b)) return quiet(b);
    if (isnan(a)) return quiet(a);
    return a + b;
}

static inline float input_at(const conv_args *a, size_t i) {
    float v = a->x_bf16 ? float_of((uint32_t)((const uint16_t *)a->x)[i] << 16)
                        : ((const float *)a->x)[i];
    return a->g.quant_in == QUANT_BF16 ? bf16_round(v) : v;
}

static inline float activated(float v, int act) {  /* torch.relu / torch.clamp(v, 0, 6) */
    if (act != ACT_NONE && v < 0.0f) v = 0.0f;     /* NaN and -0 pass unchanged */
    if (act == ACT_RELU6 && v > 6.0f) v = 6.0f;
    return v;
}

static float exact_output(const conv_args *a, int n, int oh, int ow, int c) {
    const geometry *g = &a->g;
    float acc = 0.0f;
    for (int kh = 0; kh < g->kh; kh++) {
        int ih = oh * g->sh - g->pt + kh * g->dh;
        for (int kw = 0; kw < g->kw; kw++) {
            int iw = ow * g->sw - g->pl + kw * g->dw;
            float x = 0.0f;
            if (ih >= 0 && ih < g->h && iw >= 0 && iw < g->w)
                x = input_at(a, (((size_t)n * g->h + ih) * g->w + iw) * g->c + c);
            const size_t k = (size_t)(c / LANES) * g->kh * g->kw + kh * g->kw + kw;
            acc = exact_add(acc, exact_mul(x, a->w[k * LANES + c % LANES]));
        }
    }
    if (a->b) acc = exact_add(acc, a->b[c]);
    acc = activated(acc, g->act);
    return g->quant_out == QUANT_BF16 ? bf16_round(acc) : acc;
}

/* ---- vector ---- */

static inline __attribute__((always_inline)) vf select_bits(vi mask, vf yes, vf no) {
    return (vf)(((vi)yes & mask) | ((vi)no & ~mask));
}

static inline __attribute__((always_inline)) vf vbf16_round(vf v) {
    vu u = (vu)v;
    vu rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    vi nan = (vi)(u & 0x7FFFFFFFu) > (vi){} + 0x7F800000;
    return select_bits(nan, (vf)((u & 0x80000000u) | 0x7FC00000u), (vf)rounded);
}

static inline __attribute__((always_inline)) vf vactivated(vf v, int act) {
    vf zero = {};
    if (act != ACT_NONE) v = select_bits(v < zero, zero, v);
    if (act == ACT_RELU6) v = select_bits(v > zero + 6.0f, zero + 6.0f, v);
    return v;
}

/* Input row (n, ih) as the kernels see it: quantised, zero past C and over the left /
 * right padding; `width` padded columns, laid out [block][column][16 channels]. */
static inline __attribute__((always_inline)) void
fill_row(const conv_args *a, int n, int ih, int width, float *dst) {
    const geometry *g = &a->g;
    const int blocks = g->cp / LANES, full = g->c / LANES, tail = g->c % LANES;
    const size_t block_floats = (size_t)width * LANES;
    const int bf16 = a->x_bf16, quant = g->quant_in == QUANT_BF16;
    for (int j = 0; j < width; j++) {
        float *d = dst + (size_t)j * LANES;
        const int iw = j - g->pl;
        if (iw < 0 || iw >= g->w) {
            for (int blk = 0; blk < blocks; blk++) *(vf *)(d + blk * block_floats) = (vf){};
            continue;
        }
        const size_t i = (((size_t)n * g->h + ih) * g->w + iw) * g->c;
        for (int blk = 0; blk < full; blk++) {
            const size_t at = i + (size_t)blk * LANES;
            vf v = bf16 ? (vf)(__builtin_convertvector(*(const vh_u *)((const uint16_t *)a->x + at), vu) << 16)
                        : *(const vf_u *)((const float *)a->x + at);
            *(vf *)(d + blk * block_floats) = quant ? vbf16_round(v) : v;
        }
        if (tail) {
            float *t = d + full * block_floats;
            for (int l = 0; l < LANES; l++) t[l] = l < tail ? input_at(a, i + (size_t)full * LANES + l) : 0.0f;
        }
    }
}

/* One output row of one channel block: the block's input rows `rows[kh]`, its weights
 * `wk` (window vectors); whether a NaN came out. A macro, not a function, so that the
 * weights of the common windows stay in a fixed-size local array (registers): a
 * variable-length one would keep it from inlining into each target clone of run_units. */
#define ROW_LOOP(KH, KW, WK)                                                              \
    do {                                                                                  \
        const int sw_ = a->g.sw * LANES, dw_ = a->g.dw * LANES, ow_ = a->g.ow;            \
        const int c_ = a->g.c, count_ = c_ - block * LANES, act_ = a->g.act;              \
        const int round_ = a->g.quant_out == QUANT_BF16, has_bias_ = a->b != NULL;         \
        vf bias_ = {};                                                                    \
        if (has_bias_) bias_ = *(const vf_u *)(a->b + block * LANES);                     \
        vi nan_ = {};                                                                     \
        for (int ow = 0; ow < ow_; ow++, out += c_) {                                     \
            vf acc = {};                                                                  \
            for (int kh = 0; kh < (KH); kh++) {                                           \
                const float *r_ = rows[kh] + (size_t)ow * sw_;                            \
                for (int kw = 0; kw < (KW); kw++)                                         \
                    acc = acc + *(const vf *)(r_ + kw * dw_) * (WK)[kh * (KW) + kw];      \
            }                                                                             \
            if (has_bias_) acc = acc + bias_;                                             \
            acc = vactivated(acc, act_);                                                  \
            nan_ |= acc != acc;                                                           \
            if (round_) acc = vbf16_round(acc);                                           \
            if (count_ >= LANES) *(vf_u *)out = acc;                                      \
            else memcpy(out, &acc, (size_t)count_ * sizeof(float));                       \
        }                                                                                 \
        int any_ = 0;                                                                     \
        for (int l = 0; l < LANES; l++) any_ |= nan_[l];                                  \
        return any_;                                                                      \
    } while (0)

#define FIXED_ROW_KERNEL(KH, KW)                                                          \
    static inline __attribute__((always_inline)) int row_##KH##x##KW(                    \
        const conv_args *a, const float *const *rows, int block, float *out,             \
        const float *weights) {                                                          \
        vf wk[KH * KW];                                                                   \
        for (int k = 0; k < KH * KW; k++) wk[k] = *(const vf_u *)(weights + k * LANES);   \
        ROW_LOOP(KH, KW, wk);                                                             \
    }
FIXED_ROW_KERNEL(3, 3)
FIXED_ROW_KERNEL(5, 5)
FIXED_ROW_KERNEL(7, 7)

static inline __attribute__((always_inline)) int
row_any(const conv_args *a, const float *const *rows, int block, float *out, const float *weights) {
    const vf_u *wk = (const vf_u *)weights;
    ROW_LOOP(a->g.kh, a->g.kw, wk);
}

static __thread float *scratch;
static __thread size_t scratch_floats;

/* Units [u0, u1) of (output row, 16-channel block) pairs, unit = row * blocks + block;
 * 0, or -1 when out of memory. */
PER_TARGET static int run_units(const conv_args *a, long u0, long u1) {
    const geometry *g = &a->g;
    const int blocks = g->cp / LANES, window = g->kh * g->kw;
    const int width = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    const size_t block_floats = (size_t)width * LANES, row_floats = blocks * block_floats;
    const size_t need = (size_t)g->kh * row_floats + block_floats;
    if (need > scratch_floats) {
        free(scratch);
        scratch = NULL;
        scratch_floats = 0;
        if (posix_memalign((void **)&scratch, 64, need * sizeof(float)) != 0) return -1;
        scratch_floats = need;
    }
    float *zero_row = scratch + (size_t)g->kh * row_floats;  /* one block's worth */
    memset(zero_row, 0, block_floats * sizeof(float));
    long tag[g->kh];  /* slot -> n * h + ih it holds */
    const float *rows[g->kh], *block_rows[g->kh];
    int zero[g->kh];
    for (int s = 0; s < g->kh; s++) tag[s] = -1;
    for (long u = u0; u < u1;) {
        const long r = u / blocks;
        const int n = (int)(r / g->oh), oh = (int)(r % g->oh), b0 = (int)(u % blocks);
        const int b1 = u1 - u < blocks - b0 ? b0 + (int)(u1 - u) : blocks;
        for (int k = 0; k < g->kh; k++) {  /* the input row under kernel row k */
            const int ih = oh * g->sh - g->pt + k * g->dh;
            zero[k] = ih < 0 || ih >= g->h;
            if (zero[k]) continue;
            const long want = (long)n * g->h + ih;
            int slot = -1;
            for (int s = 0; s < g->kh; s++) if (tag[s] == want) slot = s;
            if (slot < 0) {  /* a slot no kernel row of this output row needs */
                for (int s = 0; s < g->kh && slot < 0; s++) {
                    int used = 0;
                    for (int j = 0; j < g->kh; j++) {
                        const int jh = oh * g->sh - g->pt + j * g->dh;
                        used |= jh >= 0 && jh < g->h && tag[s] == (long)n * g->h + jh;
                    }
                    if (!used) slot = s;
                }
                fill_row(a, n, ih, width, scratch + (size_t)slot * row_floats);
                tag[slot] = want;
            }
            rows[k] = scratch + (size_t)slot * row_floats;
        }
        float *out_row = a->y + ((size_t)n * g->oh + oh) * g->ow * g->c;
        for (int blk = b0; blk < b1; blk++) {
            for (int k = 0; k < g->kh; k++) block_rows[k] = zero[k] ? zero_row : rows[k] + blk * block_floats;
            const float *weights = a->w + (size_t)blk * window * LANES;
            float *out = out_row + (size_t)blk * LANES;
            int nan;
            if (g->kh == 3 && g->kw == 3) nan = row_3x3(a, block_rows, blk, out, weights);
            else if (g->kh == 5 && g->kw == 5) nan = row_5x5(a, block_rows, blk, out, weights);
            else if (g->kh == 7 && g->kw == 7) nan = row_7x7(a, block_rows, blk, out, weights);
            else nan = row_any(a, block_rows, blk, out, weights);
            if (nan) {  /* the NaNs' bits by torch's rule */
                const int c1 = (blk + 1) * LANES < g->c ? (blk + 1) * LANES : g->c;
                for (int ow = 0; ow < g->ow; ow++)
                    for (int c = blk * LANES; c < c1; c++) {
                        float *y = out_row + (size_t)ow * g->c + c;
                        if (isnan(*y)) *y = exact_output(a, n, oh, ow, c);
                    }
            }
        }
        u += b1 - b0;
    }
    return 0;
}

static void *pointer_arg(PyObject *o, int allow_null) {
    void *p = PyLong_AsVoidPtr(o);
    if (p == NULL && !PyErr_Occurred() && !allow_null)
        PyErr_SetString(PyExc_ValueError, "null tensor pointer");
    return p;
}

PyDoc_STRVAR(conv_doc,
"conv(geometry, y, x, x_bf16, w, b, threads)\n\n"
"The depthwise conv of runtime/reference.py: geometry = 18 native int32 (see _dwconv.c),\n"
"y / x / w / b = data pointers of contiguous tensors (b = 0 without a bias), x_bf16 =\n"
"whether x holds bfloat16, threads = OpenMP threads (torch.get_num_threads()).");

static PyObject *conv(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7) return PyErr_Format(PyExc_TypeError, "conv() takes 7 arguments (%zd given)", nargs);
    conv_args a;
    if (!PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != (Py_ssize_t)sizeof(geometry))
        return PyErr_Format(PyExc_ValueError, "geometry must be %zu bytes", sizeof(geometry));
    memcpy(&a.g, PyBytes_AS_STRING(args[0]), sizeof(geometry));
    const geometry *g = &a.g;
    if (g->n < 1 || g->h < 1 || g->w < 1 || g->c < 1 || g->cp < g->c || g->cp % LANES
        || g->oh < 1 || g->ow < 1 || g->kh < 1 || g->kh > 4096 || g->kw < 1 || g->sh < 1
        || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->pt < 0 || g->pl < 0
        || (unsigned)g->quant_in > QUANT_BF16 || (unsigned)g->quant_out > QUANT_BF16
        || (unsigned)g->act > ACT_RELU6)
        return PyErr_Format(PyExc_ValueError, "invalid conv geometry");
    a.y = pointer_arg(args[1], 0);
    a.x = pointer_arg(args[2], 0);
    a.x_bf16 = PyObject_IsTrue(args[3]);
    a.w = pointer_arg(args[4], 0);
    a.b = pointer_arg(args[5], 1);
    long threads = PyLong_AsLong(args[6]);
    if (PyErr_Occurred()) return NULL;
    const long units = (long)(g->cp / LANES) * g->n * g->oh;
    if (threads > units) threads = units;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    if (threads <= 1) {
        failed = run_units(&a, 0, units);
    } else {
#pragma omp parallel num_threads(threads) reduction(| : failed)
        {
            const long t = omp_get_thread_num(), team = omp_get_num_threads();
            failed |= run_units(&a, units * t / team, units * (t + 1) / team);
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"conv", (PyCFunction)(void (*)(void))conv, METH_FASTCALL, conv_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_dwconv",
    .m_doc = "The reference backend's fused depthwise conv (see _dwconv.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__dwconv(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "GEOMETRY_FIELDS", sizeof(geometry) / sizeof(int32_t)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
