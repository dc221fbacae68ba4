/* Compiled inner loops of the detection core (issue 10), module twitchwatch.core._kernels.
 *
 * Each function is the loop of a numpy reference that stays in the package as the documented
 * fallback (used when this extension is not built) and that the tests compare it against:
 *
 *   sos_filter     twitchwatch.core.filters.StreamingSOS (scipy's compiled _sosfilt arithmetic)
 *   emg_chain      twitchwatch.core.filters.EmgFilters (its StreamingSOS filters one after another)
 *   accel_chain    twitchwatch.core.filters.AccelFilters (likewise)
 *   forest_values  twitchwatch.core.classify.CompiledForest._leaf_values_numpy
 *   hysteresis     twitchwatch.core.events._hysteresis_numpy
 *   log_block_sums twitchwatch.core.events._log_block_sums_numpy
 *   rows_within    twitchwatch.core.blocks._rows_within_numpy
 *   sample_stats   twitchwatch.core.blocks._sample_stats_numpy
 *   middle_sum     twitchwatch.core.native.middle_sum (numpy's x.sum(axis=1) of C-ordered x)
 *
 * Bit-exactness: only the operations of the reference, in its order, on float64. No -ffast-math,
 * and floating-point contraction is off (setup in pyproject.toml: -ffp-contract=off), so a*b+c is
 * never fused into an FMA the reference does not use. Arrays arrive through the buffer protocol
 * (no numpy headers needed to build); the Python wrappers check dtypes, shapes and contiguity.
 * Every loop runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* One sample through a cascade of ``sections`` second-order sections (rows b0 b1 b2 a0 a1 a2,
 * a0 == 1) with state z (sections, 2): the statements of scipy.signal._sosfilt._sosfilt_float
 * (transposed direct form II, one section after another), in its order. */
static inline double sos_step(const double *sos, Py_ssize_t sections, double *z, double x_cur)
{
    for (Py_ssize_t s = 0; s < sections; s++) {
        const double *q = sos + s * 6;
        double x_new = q[0] * x_cur + z[2 * s];
        z[2 * s] = q[1] * x_cur - q[4] * x_new + z[2 * s + 1];
        z[2 * s + 1] = q[2] * x_cur - q[5] * x_new;
        x_cur = x_new;
    }
    return x_cur;
}

/* sos_filter(sos, x, y, zi, n, channels, sections)
 *   sos : float64 (sections, 6)
 *   x   : float64 (n, channels) C-ordered input
 *   y   : float64 (n, channels) C-ordered output (may be x itself)
 *   zi  : float64 (channels, sections, 2) state, updated in place
 * Each channel through sos_step, sample by sample. */
static PyObject *sos_filter(PyObject *self, PyObject *args)
{
    Py_buffer sb, xb, yb, zb;
    Py_ssize_t n, channels, sections;
    if (!PyArg_ParseTuple(args, "y*y*w*w*nnn", &sb, &xb, &yb, &zb, &n, &channels, &sections))
        return NULL;
    if (sb.len < (Py_ssize_t)(sections * 6 * sizeof(double)) || xb.len < (Py_ssize_t)(n * channels * sizeof(double)) ||
        yb.len < (Py_ssize_t)(n * channels * sizeof(double)) ||
        zb.len < (Py_ssize_t)(channels * sections * 2 * sizeof(double))) {
        PyBuffer_Release(&sb); PyBuffer_Release(&xb); PyBuffer_Release(&yb); PyBuffer_Release(&zb);
        PyErr_SetString(PyExc_ValueError, "sos_filter: buffer too small");
        return NULL;
    }
    const double *sos = (const double *)sb.buf;
    const double *x = (const double *)xb.buf;
    double *y = (double *)yb.buf;
    double *zi = (double *)zb.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        for (Py_ssize_t c = 0; c < channels; c++)
            y[i * channels + c] = sos_step(sos, sections, zi + c * sections * 2, x[i * channels + c]);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&sb); PyBuffer_Release(&xb); PyBuffer_Release(&yb); PyBuffer_Release(&zb);
    Py_RETURN_NONE;
}

/* Buffers of a filter chain: (sos (sections, 6), state (channels, sections, 2)) per filter. */
static int chain_ok(Py_buffer *sos, Py_buffer *z, Py_ssize_t sections, Py_ssize_t channels)
{
    return sos->len >= (Py_ssize_t)(sections * 6 * sizeof(double)) &&
           z->len >= (Py_ssize_t)(channels * sections * 2 * sizeof(double));
}

/* emg_chain(x, sos_a, z_a, sos_b, z_b, sos_c, z_c, last_sign, band, ev, fe, zc, n, channels, na, nb, nc)
 * EmgFilters in one pass (filters.EmgFilters: band = A(x), ev = B(|band|), fe = C(ev), zero
 * crossings of band), each filter's own statements and state: the same values as three
 * sos_filter calls. x, band, ev, fe : float64 (n, channels); zc : bool (n, channels);
 * last_sign : bool (channels,) band >= 0 at the previous sample, updated. */
static PyObject *emg_chain(PyObject *self, PyObject *args)
{
    Py_buffer xb, ab, zab, bb, zbb, cb, zcb, lb, ob, eb, fb, kb;
    Py_ssize_t n, ch, na, nb, nc;
    if (!PyArg_ParseTuple(args, "y*y*w*y*w*y*w*w*w*w*w*w*nnnnn", &xb, &ab, &zab, &bb, &zbb, &cb, &zcb, &lb, &ob, &eb,
                          &fb, &kb, &n, &ch, &na, &nb, &nc))
        return NULL;
    Py_ssize_t nd = n * ch * (Py_ssize_t)sizeof(double);
    int ok = xb.len >= nd && ob.len >= nd && eb.len >= nd && fb.len >= nd && kb.len >= n * ch && lb.len >= ch &&
             chain_ok(&ab, &zab, na, ch) && chain_ok(&bb, &zbb, nb, ch) && chain_ok(&cb, &zcb, nc, ch);
    if (ok) {
        const double *x = (const double *)xb.buf, *sa = (const double *)ab.buf, *sb = (const double *)bb.buf,
                     *sc = (const double *)cb.buf;
        double *za = (double *)zab.buf, *zb = (double *)zbb.buf, *zc = (double *)zcb.buf;
        double *band = (double *)ob.buf, *ev = (double *)eb.buf, *fe = (double *)fb.buf;
        uint8_t *last = (uint8_t *)lb.buf, *cross = (uint8_t *)kb.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            for (Py_ssize_t c = 0; c < ch; c++) {
                Py_ssize_t j = i * ch + c;
                double a = sos_step(sa, na, za + c * na * 2, x[j]);
                double b = sos_step(sb, nb, zb + c * nb * 2, fabs(a));
                band[j] = a;
                ev[j] = b;
                fe[j] = sos_step(sc, nc, zc + c * nc * 2, b);
                uint8_t sign = a >= 0.0;
                cross[j] = sign != (last[c] != 0);
                last[c] = sign;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&ab); PyBuffer_Release(&zab); PyBuffer_Release(&bb);
    PyBuffer_Release(&zbb); PyBuffer_Release(&cb); PyBuffer_Release(&zcb); PyBuffer_Release(&lb);
    PyBuffer_Release(&ob); PyBuffer_Release(&eb); PyBuffer_Release(&fb); PyBuffer_Release(&kb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "emg_chain: buffer too small");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* accel_chain(x, sos_t, z_t, sos_g, z_g, sos_m, z_m, sos_b, z_b, sos_c, z_c, gravity, move, ev, fe,
 *             n, channels, nt, ng, nm, nb, nc)
 * AccelFilters in one pass (filters.AccelFilters: twitch = T(x), its norm over the axes
 * (|twitch| for one channel, else sqrt((t0 t0 + t1 t1) + t2 t2), as numpy sums them),
 * ev = B(norm), fe = C(ev), gravity = G(x), move = M(x)), each filter's own statements and state.
 * x, gravity, move : float64 (n, channels), channels 1 or 3; ev, fe : float64 (n,). */
static PyObject *accel_chain(PyObject *self, PyObject *args)
{
    Py_buffer xb, tb, ztb, gb, zgb, mb, zmb, bb, zbb, cb, zcb, gob, mob, eob, fob;
    Py_ssize_t n, ch, nt, ng, nm, nb, nc;
    if (!PyArg_ParseTuple(args, "y*y*w*y*w*y*w*y*w*y*w*w*w*w*w*nnnnnnn", &xb, &tb, &ztb, &gb, &zgb, &mb, &zmb, &bb,
                          &zbb, &cb, &zcb, &gob, &mob, &eob, &fob, &n, &ch, &nt, &ng, &nm, &nb, &nc))
        return NULL;
    Py_ssize_t nd = n * ch * (Py_ssize_t)sizeof(double), n1 = n * (Py_ssize_t)sizeof(double);
    int ok = (ch == 1 || ch == 3) && xb.len >= nd && gob.len >= nd && mob.len >= nd && eob.len >= n1 && fob.len >= n1 &&
             chain_ok(&tb, &ztb, nt, ch) && chain_ok(&gb, &zgb, ng, ch) && chain_ok(&mb, &zmb, nm, ch) &&
             chain_ok(&bb, &zbb, nb, 1) && chain_ok(&cb, &zcb, nc, 1);
    if (ok) {
        const double *x = (const double *)xb.buf, *st = (const double *)tb.buf, *sg = (const double *)gb.buf,
                     *sm = (const double *)mb.buf, *sb = (const double *)bb.buf, *sc = (const double *)cb.buf;
        double *zt = (double *)ztb.buf, *zg = (double *)zgb.buf, *zm = (double *)zmb.buf, *zb = (double *)zbb.buf,
               *zc = (double *)zcb.buf;
        double *gravity = (double *)gob.buf, *move = (double *)mob.buf, *ev = (double *)eob.buf, *fe = (double *)fob.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            double t[3], rect;
            for (Py_ssize_t c = 0; c < ch; c++) {
                Py_ssize_t j = i * ch + c;
                t[c] = sos_step(st, nt, zt + c * nt * 2, x[j]);
                gravity[j] = sos_step(sg, ng, zg + c * ng * 2, x[j]);
                move[j] = sos_step(sm, nm, zm + c * nm * 2, x[j]);
            }
            if (ch == 1) {
                rect = fabs(t[0]);
            } else {
                double s0 = t[0] * t[0], s1 = t[1] * t[1], s2 = t[2] * t[2];
                rect = sqrt((s0 + s1) + s2);
            }
            double b = sos_step(sb, nb, zb, rect);
            ev[i] = b;
            fe[i] = sos_step(sc, nc, zc, b);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&tb); PyBuffer_Release(&ztb); PyBuffer_Release(&gb);
    PyBuffer_Release(&zgb); PyBuffer_Release(&mb); PyBuffer_Release(&zmb); PyBuffer_Release(&bb);
    PyBuffer_Release(&zbb); PyBuffer_Release(&cb); PyBuffer_Release(&zcb); PyBuffer_Release(&gob);
    PyBuffer_Release(&mob); PyBuffer_Release(&eob); PyBuffer_Release(&fob);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "accel_chain: buffer too small or not 1 or 3 channels");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* One node of a flattened forest, as CompiledForest packs it (numpy dtype NODE_DTYPE, 24 bytes):
 * go to child[1] when x[feature] > threshold, else child[0]; a leaf has threshold +inf and is its
 * own child, so walking past it stays there. One cache line holds a node's whole decision. */
/* Rows walked together through a tree: independent chains of dependent loads that overlap. */
#define FOREST_LANES 8

typedef struct {
    double threshold;
    int32_t feature;
    int32_t child[2];
    int32_t pad;
} Node;

/* forest_values(x, nodes, roots, value, out, rows, width, trees, depth)
 *   x     : float64 (rows, width) features, no NaN
 *   nodes : Node (n_nodes,) packed decisions; roots : int32 (trees,) root node of each tree
 *           (indices and features in range: checked by the caller once, see CompiledForest)
 *   value : float64 (n_nodes,) leaf values
 *   out   : float64 (rows, trees) the value of the leaf each row reaches in each tree
 * Walks ``depth`` levels per tree, one tree at a time over all rows (its nodes stay in cache), rows
 * interleaved FOREST_LANES at a time so that their independent loads overlap. Only comparisons: the same
 * leaves as the numpy walk. */
static PyObject *forest_values(PyObject *self, PyObject *args)
{
    Py_buffer xb, nb, rb, vb, ob;
    Py_ssize_t rows, width, trees, depth;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*nnnn", &xb, &nb, &rb, &vb, &ob, &rows, &width, &trees, &depth))
        return NULL;
    const double *x = (const double *)xb.buf;
    const Node *nodes = (const Node *)nb.buf;
    const int32_t *roots = (const int32_t *)rb.buf;
    const double *value = (const double *)vb.buf;
    double *out = (double *)ob.buf;
    Py_ssize_t n_nodes = nb.len / (Py_ssize_t)sizeof(Node);
    int ok = nb.len % (Py_ssize_t)sizeof(Node) == 0 && xb.len >= (Py_ssize_t)(rows * width * sizeof(double)) &&
             rb.len >= (Py_ssize_t)(trees * sizeof(int32_t)) && ob.len >= (Py_ssize_t)(rows * trees * sizeof(double)) &&
             vb.len / (Py_ssize_t)sizeof(double) == n_nodes;
    /* node features and children are checked once, when CompiledForest packs the nodes (every
     * feature < its width <= width, every child and root a node index) */
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t t = 0; t < trees; t++) {  /* one tree at a time: its nodes stay in L1 */
            const int32_t root = roots[t];
            Py_ssize_t r = 0;
            for (; r + FOREST_LANES <= rows; r += FOREST_LANES) {
                int32_t idx[FOREST_LANES];
                for (int l = 0; l < FOREST_LANES; l++)
                    idx[l] = root;
                for (Py_ssize_t d = 0; d < depth; d++) {
                    for (int l = 0; l < FOREST_LANES; l++) {
                        const Node *nd = nodes + idx[l];
                        idx[l] = nd->child[x[(r + l) * width + nd->feature] > nd->threshold];
                    }
                }
                for (int l = 0; l < FOREST_LANES; l++)
                    out[(r + l) * trees + t] = value[idx[l]];
            }
            for (; r < rows; r++) {
                const double *xr = x + r * width;
                int32_t i = root;
                for (Py_ssize_t d = 0; d < depth; d++)
                    i = nodes[i].child[xr[nodes[i].feature] > nodes[i].threshold];
                out[r * trees + t] = value[i];
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&nb); PyBuffer_Release(&rb); PyBuffer_Release(&vb); PyBuffer_Release(&ob);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "forest_values: inconsistent buffers or node indices out of range");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* hysteresis(env, floor, active, state, n, channels, on_ratio, off_ratio) -> any sample "on"
 *   env, floor : float64 (n, channels); active : uint8 (channels,) state before the first sample
 *   state      : uint8 (n, channels) output: on where env > on_ratio * floor, off where
 *                env < off_ratio * floor, else the previous sample's state. */
static PyObject *hysteresis(PyObject *self, PyObject *args)
{
    Py_buffer eb, fb, ab, sb;
    Py_ssize_t n, channels;
    double on_ratio, off_ratio;
    if (!PyArg_ParseTuple(args, "y*y*y*w*nndd", &eb, &fb, &ab, &sb, &n, &channels, &on_ratio, &off_ratio))
        return NULL;
    int ok = eb.len >= (Py_ssize_t)(n * channels * sizeof(double)) && fb.len >= (Py_ssize_t)(n * channels * sizeof(double)) &&
             ab.len >= channels && sb.len >= n * channels;
    int any_on = 0;
    if (ok) {
        const double *env = (const double *)eb.buf, *floor_ = (const double *)fb.buf;
        const uint8_t *active = (const uint8_t *)ab.buf;
        uint8_t *state = (uint8_t *)sb.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t c = 0; c < channels; c++) {
            uint8_t s = active[c] != 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                Py_ssize_t j = i * channels + c;
                double e = env[j], f = floor_[j];
                if (e > on_ratio * f) {
                    s = 1;
                    any_on = 1;
                } else if (e < off_ratio * f) {
                    s = 0;
                }
                state[j] = s;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&eb); PyBuffer_Release(&fb); PyBuffer_Release(&ab); PyBuffer_Release(&sb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "hysteresis: buffer too small");
        return NULL;
    }
    return PyBool_FromLong(any_on);
}

/* log_block_sums(logs, starts, out, n, channels, blocks, scale)
 *   logs   : float64 (n, channels) natural logs (numpy's log: its SIMD log may differ from libm's
 *            in the last bit, so the log itself stays in numpy)
 *   starts : int64 (blocks,) first row of each block, ascending, starts[0] == 0
 *   out    : int64 (blocks, channels + 1) per block: sum over its rows of rint(log * scale) per
 *            channel (rint: round half to even, numpy's np.round), then the row count.
 * Integer sums: exact in any order. */
static PyObject *log_block_sums(PyObject *self, PyObject *args)
{
    Py_buffer lb, sb, ob;
    Py_ssize_t n, channels, blocks;
    double scale;
    if (!PyArg_ParseTuple(args, "y*y*w*nnnd", &lb, &sb, &ob, &n, &channels, &blocks, &scale))
        return NULL;
    const double *logs = (const double *)lb.buf;
    const int64_t *starts = (const int64_t *)sb.buf;
    int64_t *out = (int64_t *)ob.buf;
    int ok = lb.len >= (Py_ssize_t)(n * channels * sizeof(double)) && sb.len >= (Py_ssize_t)(blocks * sizeof(int64_t)) &&
             ob.len >= (Py_ssize_t)(blocks * (channels + 1) * sizeof(int64_t));
    for (Py_ssize_t b = 0; ok && b < blocks; b++)
        ok = starts[b] >= 0 && starts[b] <= n && (b == 0 ? starts[b] == 0 : starts[b] >= starts[b - 1]);
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t b = 0; b < blocks; b++) {
            Py_ssize_t lo = (Py_ssize_t)starts[b], hi = b + 1 < blocks ? (Py_ssize_t)starts[b + 1] : n;
            int64_t *row = out + b * (channels + 1);
            for (Py_ssize_t c = 0; c < channels; c++) {
                int64_t acc = 0;
                for (Py_ssize_t i = lo; i < hi; i++)
                    acc += (int64_t)rint(logs[i * channels + c] * scale);
                row[c] = acc;
            }
            row[channels] = (int64_t)(hi - lo);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&lb); PyBuffer_Release(&sb); PyBuffer_Release(&ob);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "log_block_sums: inconsistent buffers or block starts");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* rows_within(x, mask, n, channels, limit) -> all rows within
 *   x    : float64 (n, channels); mask : uint8 (n,) output, 1 where every |x| <= limit (NaN: 0) */
static PyObject *rows_within(PyObject *self, PyObject *args)
{
    Py_buffer xb, mb;
    Py_ssize_t n, channels;
    double limit;
    if (!PyArg_ParseTuple(args, "y*w*nnd", &xb, &mb, &n, &channels, &limit))
        return NULL;
    int ok = xb.len >= (Py_ssize_t)(n * channels * sizeof(double)) && mb.len >= n;
    int all = 1;
    if (ok) {
        const double *x = (const double *)xb.buf;
        uint8_t *mask = (uint8_t *)mb.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            uint8_t in = 1;
            for (Py_ssize_t c = 0; c < channels; c++)
                in &= fabs(x[i * channels + c]) <= limit;
            mask[i] = in;
            all &= in;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&mb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "rows_within: buffer too small");
        return NULL;
    }
    return PyBool_FromLong(all);
}

/* sample_stats(x, starts, valid, crossings, sums, maxs, mins, n, channels, blocks, k, clip_level)
 *   x         : float64 (n, channels) samples (finite)
 *   starts    : int64 (blocks,) first row of each block, ascending, starts[0] == 0
 *   valid     : uint8 (n,) 1 for a valid sample, or an empty buffer (all valid)
 *   crossings : uint8 (n, k) zero crossings (k may be 0)
 *   sums      : float64 (blocks, 3 + k) out: rows, invalid rows, clipped rows (some |x| >= clip_level),
 *               crossings per column; counts, exact in float64
 *   maxs, mins: float64 (blocks, channels) out: per-channel maximum and minimum */
static PyObject *sample_stats(PyObject *self, PyObject *args)
{
    Py_buffer xb, sb, vb, zb, ob, hb, lb;
    Py_ssize_t n, channels, blocks, k;
    double clip;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*w*nnnnd", &xb, &sb, &vb, &zb, &ob, &hb, &lb, &n, &channels, &blocks, &k,
                          &clip))
        return NULL;
    const double *x = (const double *)xb.buf;
    const int64_t *starts = (const int64_t *)sb.buf;
    const uint8_t *valid = vb.len ? (const uint8_t *)vb.buf : NULL;
    const uint8_t *zc = (const uint8_t *)zb.buf;
    double *sums = (double *)ob.buf, *maxs = (double *)hb.buf, *mins = (double *)lb.buf;
    int ok = channels > 0 && xb.len >= (Py_ssize_t)(n * channels * sizeof(double)) &&
             sb.len >= (Py_ssize_t)(blocks * sizeof(int64_t)) && (vb.len == 0 || vb.len >= n) && zb.len >= n * k &&
             ob.len >= (Py_ssize_t)(blocks * (3 + k) * sizeof(double)) &&
             hb.len >= (Py_ssize_t)(blocks * channels * sizeof(double)) &&
             lb.len >= (Py_ssize_t)(blocks * channels * sizeof(double));
    for (Py_ssize_t b = 0; ok && b < blocks; b++)
        ok = (b == 0 ? starts[b] == 0 : starts[b] > starts[b - 1]) && starts[b] < n;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t b = 0; b < blocks; b++) {
            Py_ssize_t lo = (Py_ssize_t)starts[b], hi = b + 1 < blocks ? (Py_ssize_t)starts[b + 1] : n;
            double *row = sums + b * (3 + k), *mx = maxs + b * channels, *mn = mins + b * channels;
            double invalid = 0.0, clipped = 0.0;
            for (Py_ssize_t c = 0; c < channels; c++)
                mx[c] = mn[c] = x[lo * channels + c];
            for (Py_ssize_t j = 0; j < k; j++)
                row[3 + j] = 0.0;
            for (Py_ssize_t i = lo; i < hi; i++) {
                const double *xi = x + i * channels;
                int over = 0;
                for (Py_ssize_t c = 0; c < channels; c++) {
                    double v = xi[c];
                    if (v > mx[c]) mx[c] = v;
                    if (v < mn[c]) mn[c] = v;
                    over |= fabs(v) >= clip;
                }
                clipped += over;
                if (valid && !valid[i])
                    invalid += 1.0;
                for (Py_ssize_t j = 0; j < k; j++)
                    row[3 + j] += zc[i * k + j];
            }
            row[0] = (double)(hi - lo);
            row[1] = invalid;
            row[2] = clipped;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&sb); PyBuffer_Release(&vb); PyBuffer_Release(&zb);
    PyBuffer_Release(&ob); PyBuffer_Release(&hb); PyBuffer_Release(&lb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "sample_stats: inconsistent buffers or block starts");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* middle_sum(x, out, w, n, c)
 *   x   : float64 (w, n, c) C-ordered, c >= 2; out : float64 (w, c)
 * Sum over the middle axis as numpy computes it for this layout: numpy adds whole rows of c
 * values in order, from +0 (the reduced axis is not the innermost one, so no pairwise
 * summation). */
static PyObject *middle_sum(PyObject *self, PyObject *args)
{
    Py_buffer xb, ob;
    Py_ssize_t w, n, c;
    if (!PyArg_ParseTuple(args, "y*w*nnn", &xb, &ob, &w, &n, &c))
        return NULL;
    int ok = c >= 2 && xb.len >= (Py_ssize_t)(w * n * c * sizeof(double)) && ob.len >= (Py_ssize_t)(w * c * sizeof(double));
    if (ok) {
        const double *x = (const double *)xb.buf;
        double *out = (double *)ob.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < w; r++) {
            double *o = out + r * c;
            for (Py_ssize_t j = 0; j < c; j++)
                o[j] = 0.0;
            for (Py_ssize_t i = 0; i < n; i++) {
                const double *xi = x + (r * n + i) * c;
                for (Py_ssize_t j = 0; j < c; j++)
                    o[j] += xi[j];
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb); PyBuffer_Release(&ob);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "middle_sum: buffer too small or fewer than 2 channels");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"sos_filter", sos_filter, METH_VARARGS, "SOS cascade over (n, channels) float64 with carried state."},
    {"emg_chain", emg_chain, METH_VARARGS, "EmgFilters' three filters and zero crossings in one pass."},
    {"accel_chain", accel_chain, METH_VARARGS, "AccelFilters' five filters and the axis norm in one pass."},
    {"forest_values", forest_values, METH_VARARGS, "Leaf value of every row in every tree of a flattened forest."},
    {"hysteresis", hysteresis, METH_VARARGS, "On/off state of an envelope against its noise floor."},
    {"log_block_sums", log_block_sums, METH_VARARGS, "Per-block sums of rounded scaled logs, and row counts."},
    {"rows_within", rows_within, METH_VARARGS, "Rows whose every value is within +-limit (NaN: not)."},
    {"sample_stats", sample_stats, METH_VARARGS, "Per-block counts, maxima and minima of samples."},
    {"middle_sum", middle_sum, METH_VARARGS, "Sum over the middle axis of C-ordered (w, n, c), numpy's order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "Compiled loops of twitchwatch.core (issue 10).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
