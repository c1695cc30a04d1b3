/* PlaneNet's compiled training kernel: core/backprop.py's forward and backward pass, its penalties
 * and core/optimizers.py's updates, element for element, over the same flat parameter vector.
 * Below it, the compiled forward pass that predictions take (core/network.py's, see the
 * section "Predictions").
 *
 * A Kernel holds one network's shape, its optimizer state and buffers for one tile of TILE
 * points: a batch of any size is worked through tile by tile, so the buffers stay in the
 * processor's cache and a job's memory does not grow with its batch size. core/compiled.py
 * drives it. Arrays are feature-major, as in the NumPy engine: the points are a
 * (features + 1, n) C-contiguous float64 array (its last row, the ones, is not read) and the
 * labels a (1, n) one. Every formula is written in the order the NumPy engine evaluates it,
 * so the two differ only by the rounding of sums (BLAS orders them its own way) and of exp
 * and log: the parity tests hold them within 1e-12. setup.py's flags keep every operation
 * IEEE (no multiply-add fused where NumPy rounds twice). The loops run with the GIL
 * released, so a worker's heartbeat thread keeps beating.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

enum { RELU, TANH, SIGMOID, LEAKY_RELU, IDENTITY, N_ACTIVATIONS };
static const char *ACTIVATION_NAMES[N_ACTIVATIONS] = {"relu", "tanh", "sigmoid", "leaky_relu",
                                                      "identity"};
enum { GD, MOMENTUM, ADAM };

#define LOGE2 0.693147180559945309417232121458176568
#define TILE 256

/* On x86-64 Linux with glibc, the hot loops are compiled twice, for AVX2 and for the baseline,
 * and the loader picks one for the processor: the same IEEE operations, twice as wide. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define WIDE_VECTORS __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_VECTORS
#endif

typedef struct {
    PyObject_HEAD
    int n_layers;
    Py_ssize_t sizes[66]; /* units per layer, input to output */
    Py_ssize_t offsets[65]; /* where each layer's (fan_in + 1, fan_out) block starts */
    int activation, optimizer;
    double learning_rate, momentum, beta1, beta2, epsilon, l2, l1, leaky_slope;
    long steps;
    Py_buffer parameters, gradient;
    Py_ssize_t size;
    double *state; /* 2 * size: velocity, or Adam's first and second moments */
    double *work;  /* z, a and grad_z of each layer, grad_a, then two rows, for TILE points */
    double *z[65], *a[65], *grad_z[65], *grad_a, *exps, *softplus;
} Kernel;

/* log(exp(0) + exp(y)), exactly as NumPy's logaddexp(0, y) computes it. */
static inline double softplus(double y)
{
    if (y == 0.0) {
        return 0.0 + LOGE2;
    }
    double tmp = 0.0 - y;
    if (tmp > 0) {
        return 0.0 + log1p(exp(-tmp));
    }
    if (tmp <= 0) {
        return y + log1p(exp(tmp));
    }
    return tmp;
}

/* log1p(e) for 0 <= e <= 1 within an ulp: fdlibm's log1p restricted to that range, written
 * without calls or branches so that a loop of it vectorises (C libraries' log1p is several
 * times slower than their exp). */
static inline double log1p_unit(double e)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01,
                 lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01,
                 lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
                 lg7 = 1.479819860511658591e-01;
    double u = 1.0 + e;
    double c = (e - (u - 1.0)) / u; /* the rounding of u, exact since e <= 1 */
    int above = u > 1.4142135623730951;
    double k = above ? 1.0 : 0.0;
    double m = u * (above ? 0.5 : 1.0); /* in [0.707, 1.415), so m - 1 is exact */
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double r = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7))) + w * (lg2 + w * (lg4 + w * lg6));
    double hfsq = 0.5 * f * f;
    return k * ln2_hi - ((hfsq - (s * (hfsq + r) + (k * ln2_lo + c))) - f);
}

static inline double sign(double x)
{
    return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x;
}

/* Whether the class-1 probability of logit z is above 0.5, as core/training.py decides with
 * NumPy: sigmoid(z) = exp(-logaddexp(0, -z)) > 0.5. That is z > 0 except for positive logits
 * so small that the probability rounds to 0.5; only those few pay for the exact formula. */
#define TINY_LOGIT 1e-6 /* sigmoid(z) is 0.5 + z / 4 within rounding, clearly above 0.5 from here */

static inline int predicts_one(double z)
{
    if (z > TINY_LOGIT) {
        return 1;
    }
    return z > 0.0 && exp(-softplus(-z)) > 0.5;
}

/* a = f(z) for the hidden layers' activation (leaky ReLU's negative side has `slope`), as
 * core/activations.py's forward functions. */
WIDE_VECTORS static void activate(int activation, double slope, const double *z, double *a,
                                  Py_ssize_t n)
{
    switch (activation) {
    case RELU:
        for (Py_ssize_t i = 0; i < n; i++) {
            a[i] = z[i] < 0.0 ? 0.0 : z[i];
        }
        break;
    case TANH:
        for (Py_ssize_t i = 0; i < n; i++) {
            a[i] = tanh(z[i]);
        }
        break;
    case SIGMOID:
        for (Py_ssize_t i = 0; i < n; i++) {
            a[i] = exp(-softplus(-z[i]));
        }
        break;
    case LEAKY_RELU:
        for (Py_ssize_t i = 0; i < n; i++) {
            a[i] = z[i] * (z[i] > 0.0 ? 1.0 : slope);
        }
        break;
    default:
        if (a != z) {
            memcpy(a, z, (size_t)n * sizeof(double));
        }
    }
}

/* out = grad_a * f'(z), with a = f(z), as core/activations.py's backward functions. */
WIDE_VECTORS static void derive(const Kernel *k, const double *grad_a, const double *z, const double *a,
                   double *out, Py_ssize_t n)
{
    switch (k->activation) {
    case RELU:
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = sign(a[i]) * grad_a[i];
        }
        break;
    case TANH:
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = (1.0 - a[i] * a[i]) * grad_a[i];
        }
        break;
    case SIGMOID:
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = ((1.0 - a[i]) * a[i]) * grad_a[i];
        }
        break;
    case LEAKY_RELU:
        for (Py_ssize_t i = 0; i < n; i++) {
            out[i] = grad_a[i] * (z[i] > 0.0 ? 1.0 : k->leaky_slope);
        }
        break;
    default:
        memcpy(out, grad_a, (size_t)n * sizeof(double));
    }
}

/* Sum of x[i] * y[i], in four interleaved partial sums so the adds need not wait on each other. */
static inline double dot(const double *x, const double *y, Py_ssize_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++) {
        s0 += x[i] * y[i];
    }
    return (s0 + s1) + (s2 + s3);
}

static inline double total(const double *x, Py_ssize_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; i++) {
        s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
}

/* One layer for `rows` points: z (fan_out, rows) = W.T @ input + b, with W (fan_in, fan_out)
 * row-major and the input's feature rows `input_stride` apart. Each z is summed over the
 * inputs in order, then the bias added: the same operations for a point whatever the rows
 * beside it. Training and predictions both go through here (inlined into each caller, so into
 * each of its WIDE_VECTORS versions). */
static inline void layer_forward(const double *input, Py_ssize_t input_stride,
                                 const double *weights, const double *bias, Py_ssize_t fan_in,
                                 Py_ssize_t fan_out, Py_ssize_t rows, double *z_out)
{
    for (Py_ssize_t j = 0; j < fan_out; j++) {
        double *z = z_out + j * rows;
        double w = weights[j];
        for (Py_ssize_t i = 0; i < rows; i++) {
            z[i] = w * input[i];
        }
        for (Py_ssize_t f = 1; f < fan_in; f++) {
            const double *x = input + f * input_stride;
            w = weights[f * fan_out + j];
            for (Py_ssize_t i = 0; i < rows; i++) {
                z[i] += w * x[i];
            }
        }
        double b = bias[j];
        for (Py_ssize_t i = 0; i < rows; i++) {
            z[i] += b;
        }
    }
}

/* z = W.T @ input + b for every layer, the hidden ones activated; input rows are `stride` apart. */
WIDE_VECTORS static void forward(Kernel *k, const double *points, Py_ssize_t stride,
                                 Py_ssize_t rows)
{
    const double *parameters = k->parameters.buf;
    const double *input = points;
    Py_ssize_t input_stride = stride;
    for (int layer = 0; layer < k->n_layers; layer++) {
        Py_ssize_t fan_in = k->sizes[layer], fan_out = k->sizes[layer + 1];
        const double *weights = parameters + k->offsets[layer];
        layer_forward(input, input_stride, weights, weights + fan_in * fan_out, fan_in, fan_out,
                      rows, k->z[layer]);
        if (layer < k->n_layers - 1) {
            activate(k->activation, k->leaky_slope, k->z[layer], k->a[layer], fan_out * rows);
            input = k->a[layer];
            input_stride = rows;
        }
    }
}

/* Adds one tile's softplus and label sums, its count of points labelled right (of the
 * parameters before the update) and its gradient (into k->gradient). */
WIDE_VECTORS static void tile_loss_and_gradient(Kernel *k, const double *points, Py_ssize_t stride,
                                   const double *labels, Py_ssize_t rows, double *softplus_sum,
                                   double *label_sum, Py_ssize_t *correct)
{
    forward(k, points, stride, rows);
    const double *parameters = k->parameters.buf;
    double *gradient = k->gradient.buf;
    int last = k->n_layers - 1;
    const double *logits = k->z[last];
    double *grad_logits = k->grad_z[last];
    /* One exp serves both softplus(z) = max(z, 0) + log1p(e) and sigmoid(z), from
     * e = exp(-|z|), each within an ulp or two of NumPy's logaddexp(0, z) and
     * exp(z - softplus(z)). */
    double *exps = k->exps, *softplus = k->softplus;
    for (Py_ssize_t i = 0; i < rows; i++) {
        exps[i] = exp(-fabs(logits[i]));
    }
    /* The points labelled right are counted as z > 0, then corrected for the rare logits so
     * small that predicts_one says otherwise. */
    Py_ssize_t right = 0, tiny = 0;
    for (Py_ssize_t i = 0; i < rows; i++) {
        double z = logits[i], e = exps[i];
        softplus[i] = (z > 0.0 ? z : 0.0) + log1p_unit(e);
        grad_logits[i] = (z >= 0.0 ? 1.0 : e) / (1.0 + e) - labels[i];
        right += (z > 0.0 ? 1.0 : 0.0) == labels[i];
        tiny += (z > 0.0) & (z <= TINY_LOGIT);
    }
    *softplus_sum += total(softplus, rows);
    *label_sum += dot(labels, logits, rows);
    for (Py_ssize_t i = 0; tiny > 0 && i < rows; i++) {
        double z = logits[i];
        if (z > 0.0 && z <= TINY_LOGIT && !predicts_one(z)) {
            right += (0.0 == labels[i]) - (1.0 == labels[i]);
        }
    }
    *correct += right;
    for (int layer = last; layer >= 0; layer--) {
        Py_ssize_t fan_in = k->sizes[layer], fan_out = k->sizes[layer + 1];
        const double *input = layer == 0 ? points : k->a[layer - 1];
        Py_ssize_t input_stride = layer == 0 ? stride : rows;
        const double *grad_z = k->grad_z[layer];
        double *grad_weights = gradient + k->offsets[layer];
        for (Py_ssize_t f = 0; f < fan_in; f++) {
            for (Py_ssize_t j = 0; j < fan_out; j++) {
                grad_weights[f * fan_out + j] +=
                    dot(input + f * input_stride, grad_z + j * rows, rows);
            }
        }
        for (Py_ssize_t j = 0; j < fan_out; j++) {
            grad_weights[fan_in * fan_out + j] += total(grad_z + j * rows, rows);
        }
        if (layer == 0) {
            break;
        }
        const double *weights = parameters + k->offsets[layer];
        for (Py_ssize_t f = 0; f < fan_in; f++) {
            double *grad_a = k->grad_a + f * rows;
            double w = weights[f * fan_out];
            for (Py_ssize_t i = 0; i < rows; i++) {
                grad_a[i] = w * grad_z[i];
            }
            for (Py_ssize_t j = 1; j < fan_out; j++) {
                const double *g = grad_z + j * rows;
                w = weights[f * fan_out + j];
                for (Py_ssize_t i = 0; i < rows; i++) {
                    grad_a[i] += w * g[i];
                }
            }
        }
        derive(k, k->grad_a, k->z[layer - 1], k->a[layer - 1], k->grad_z[layer - 1],
               fan_in * rows);
    }
}

/* The batch's summed loss (cross-entropy plus penalties); the gradient, unscaled by 1 / rows,
 * goes to k->gradient, and the count of its points labelled right is added to *correct. As
 * Workspace.loss_and_gradient in core/backprop.py. Points are rows of `stride` numbers, of
 * which the batch is the first `rows`. */
static double loss_and_gradient(Kernel *k, const double *points, Py_ssize_t stride,
                                const double *labels, Py_ssize_t rows, Py_ssize_t *correct)
{
    const double *parameters = k->parameters.buf;
    double *gradient = k->gradient.buf;
    memset(gradient, 0, (size_t)k->size * sizeof(double));
    double softplus_sum = 0.0, label_sum = 0.0;
    for (Py_ssize_t start = 0; start < rows; start += TILE) {
        Py_ssize_t tile = rows - start < TILE ? rows - start : TILE;
        tile_loss_and_gradient(k, points + start, stride, labels + start, tile, &softplus_sum,
                               &label_sum, correct);
    }
    double loss = softplus_sum - label_sum;
    if (k->l2 > 0.0 || k->l1 > 0.0) {
        double squares = 0.0, magnitudes = 0.0;
        for (int layer = 0; layer < k->n_layers; layer++) {
            Py_ssize_t n = k->sizes[layer] * k->sizes[layer + 1];
            const double *w = parameters + k->offsets[layer];
            double *g = gradient + k->offsets[layer];
            if (k->l2 > 0.0) {
                squares += dot(w, w, n);
                for (Py_ssize_t i = 0; i < n; i++) {
                    g[i] = g[i] + k->l2 * w[i];
                }
            }
            if (k->l1 > 0.0) {
                for (Py_ssize_t i = 0; i < n; i++) {
                    magnitudes += fabs(w[i]);
                    g[i] = g[i] + k->l1 * sign(w[i]);
                }
            }
        }
        if (k->l2 > 0.0) {
            loss += 0.5 * k->l2 * squares;
        }
        if (k->l1 > 0.0) {
            loss += k->l1 * magnitudes;
        }
    }
    return loss;
}

/* One optimizer update from gradient * scale, as core/optimizers.py's step methods. */
static void step(Kernel *k, double scale)
{
    double *p = k->parameters.buf;
    const double *g = k->gradient.buf;
    Py_ssize_t n = k->size;
    double *velocity = k->state, *first = k->state, *second = k->state + n;
    if (k->optimizer == GD) {
        double rate = k->learning_rate * scale;
        for (Py_ssize_t i = 0; i < n; i++) {
            p[i] = p[i] - g[i] * rate;
        }
    }
    else if (k->optimizer == MOMENTUM) {
        double rate = k->learning_rate * scale;
        for (Py_ssize_t i = 0; i < n; i++) {
            velocity[i] = velocity[i] * k->momentum;
            velocity[i] = velocity[i] - g[i] * rate;
            p[i] = p[i] + velocity[i];
        }
    }
    else {
        k->steps += 1;
        double first_correction = 1.0 - pow(k->beta1, (double)k->steps);
        double second_correction = 1.0 - pow(k->beta2, (double)k->steps);
        double rate = k->learning_rate / first_correction;
        for (Py_ssize_t i = 0; i < n; i++) {
            double gi = g[i] * scale;
            first[i] = first[i] * k->beta1;
            first[i] = first[i] + (1.0 - k->beta1) * gi;
            second[i] = second[i] * k->beta2;
            second[i] = second[i] + (1.0 - k->beta2) * (gi * gi);
            double s = sqrt(second[i] / second_correction);
            s = s + k->epsilon;
            s = first[i] / s;
            s = s * rate;
            p[i] = p[i] - s;
        }
    }
}

static int get_doubles(PyObject *object, Py_buffer *view, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, view, flags) < 0) {
        return -1;
    }
    if (view->itemsize != 8 || view->format == NULL || strcmp(view->format, "d") != 0) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s: expected a C-contiguous, aligned float64 array", name);
        return -1;
    }
    return 0;
}

static void Kernel_dealloc(Kernel *k)
{
    if (k->parameters.obj != NULL) {
        PyBuffer_Release(&k->parameters);
    }
    if (k->gradient.obj != NULL) {
        PyBuffer_Release(&k->gradient);
    }
    PyMem_RawFree(k->state);
    PyMem_RawFree(k->work);
    Py_TYPE(k)->tp_free((PyObject *)k);
}

static int Kernel_init(Kernel *k, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"layer_sizes", "activation", "optimizer", "hyperparameters",
                               "parameters", "gradient", NULL};
    PyObject *layer_sizes, *parameters, *gradient;
    const char *activation, *optimizer;
    if (k->work != NULL || k->parameters.obj != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Kernel is initialised once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oss(dddddddd)OO", keywords, &layer_sizes,
                                     &activation, &optimizer, &k->learning_rate, &k->momentum,
                                     &k->beta1, &k->beta2, &k->epsilon, &k->l2, &k->l1,
                                     &k->leaky_slope, &parameters, &gradient)) {
        return -1;
    }
    PyObject *sizes = PySequence_Fast(layer_sizes, "layer_sizes: expected a sequence");
    if (sizes == NULL) {
        return -1;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sizes);
    if (count < 2 || count > 66) {
        Py_DECREF(sizes);
        PyErr_SetString(PyExc_ValueError, "layer_sizes: expected 2 to 66 layers");
        return -1;
    }
    k->n_layers = (int)count - 1;
    Py_ssize_t size = 0, widest = 0, per_row = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        k->sizes[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sizes, i));
        if (k->sizes[i] < 1) {
            Py_DECREF(sizes);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "layer_sizes: every layer needs a unit");
            }
            return -1;
        }
        widest = k->sizes[i] > widest ? k->sizes[i] : widest;
        if (i > 0) {
            k->offsets[i - 1] = size;
            size += (k->sizes[i - 1] + 1) * k->sizes[i];
            per_row += 3 * k->sizes[i];
        }
    }
    Py_DECREF(sizes);
    k->activation = -1;
    for (int i = 0; i < N_ACTIVATIONS; i++) {
        if (strcmp(activation, ACTIVATION_NAMES[i]) == 0) {
            k->activation = i;
        }
    }
    if (strcmp(optimizer, "gd") == 0 || strcmp(optimizer, "sgd") == 0) {
        k->optimizer = GD;
    }
    else if (strcmp(optimizer, "momentum") == 0) {
        k->optimizer = MOMENTUM;
    }
    else if (strcmp(optimizer, "adam") == 0) {
        k->optimizer = ADAM;
    }
    else {
        k->optimizer = -1;
    }
    if (k->activation < 0 || k->optimizer < 0) {
        PyErr_SetString(PyExc_ValueError, "unknown activation or optimizer");
        return -1;
    }
    if (get_doubles(parameters, &k->parameters, 1, "parameters") < 0) {
        return -1;
    }
    if (get_doubles(gradient, &k->gradient, 1, "gradient") < 0) {
        return -1;
    }
    if (k->parameters.len != size * 8 || k->gradient.len != size * 8) {
        PyErr_SetString(PyExc_ValueError, "parameters and gradient must fit layer_sizes");
        return -1;
    }
    k->size = size;
    k->state = PyMem_RawCalloc((size_t)(2 * size), sizeof(double));
    k->work = PyMem_RawMalloc((size_t)((per_row + widest + 2) * TILE) * sizeof(double));
    if (k->state == NULL || k->work == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    double *next = k->work;
    for (int layer = 0; layer < k->n_layers; layer++) {
        Py_ssize_t n = k->sizes[layer + 1] * TILE;
        k->z[layer] = next;
        k->a[layer] = next + n;
        k->grad_z[layer] = next + 2 * n;
        next += 3 * n;
    }
    k->grad_a = next;
    k->exps = next + widest * TILE;
    k->softplus = k->exps + TILE;
    return 0;
}

/* The points (features + 1, n) and labels (1, n) of a call, checked against the network. */
static int get_batch(Kernel *k, PyObject *points, PyObject *labels, Py_buffer *point_view,
                     Py_buffer *label_view, Py_ssize_t *n)
{
    if (get_doubles(points, point_view, 0, "points") < 0) {
        return -1;
    }
    if (get_doubles(labels, label_view, 0, "labels") < 0) {
        PyBuffer_Release(point_view);
        return -1;
    }
    *n = label_view->len / 8;
    if (point_view->ndim != 2 || point_view->shape[1] != *n || point_view->shape[0] <= k->sizes[0]
        || *n < 1) {
        PyBuffer_Release(point_view);
        PyBuffer_Release(label_view);
        PyErr_SetString(PyExc_ValueError, "points must be (features + 1, n) for labels (1, n)");
        return -1;
    }
    return 0;
}

static PyObject *Kernel_loss_and_gradient(Kernel *k, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer points, labels;
    Py_ssize_t n;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "loss_and_gradient(points, labels)");
        return NULL;
    }
    if (get_batch(k, args[0], args[1], &points, &labels, &n) < 0) {
        return NULL;
    }
    double loss;
    Py_ssize_t correct = 0;
    Py_BEGIN_ALLOW_THREADS
    loss = loss_and_gradient(k, points.buf, n, labels.buf, n, &correct) / (double)n;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&points);
    PyBuffer_Release(&labels);
    return Py_BuildValue("(dd)", loss, (double)correct / (double)n);
}

/* The mean cross-entropy (no penalties) and the accuracy at probability 0.5 of the current
 * parameters on `rows` points, as core/training.py measures a validation set with NumPy:
 * binary_cross_entropy(logits, labels) and mean((sigmoid(logits) > 0.5) == labels). */
static void evaluate(Kernel *k, const double *points, const double *labels, Py_ssize_t rows,
                     double *loss, double *accuracy)
{
    double loss_sum = 0.0;
    Py_ssize_t correct = 0;
    for (Py_ssize_t start = 0; start < rows; start += TILE) {
        Py_ssize_t tile = rows - start < TILE ? rows - start : TILE;
        forward(k, points + start, rows, tile);
        const double *logits = k->z[k->n_layers - 1];
        for (Py_ssize_t i = 0; i < tile; i++) {
            double z = logits[i], y = labels[start + i];
            loss_sum += softplus(z) - y * z;
            correct += (predicts_one(z) ? 1.0 : 0.0) == y;
        }
    }
    *loss = loss_sum / (double)rows;
    *accuracy = (double)correct / (double)rows;
}

static PyObject *Kernel_evaluate(Kernel *k, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer points, labels;
    Py_ssize_t n;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "evaluate(points, labels)");
        return NULL;
    }
    if (get_batch(k, args[0], args[1], &points, &labels, &n) < 0) {
        return NULL;
    }
    double loss, accuracy;
    Py_BEGIN_ALLOW_THREADS
    evaluate(k, points.buf, labels.buf, n, &loss, &accuracy);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&points);
    PyBuffer_Release(&labels);
    return Py_BuildValue("(dd)", loss, accuracy);
}

static PyObject *Kernel_step(Kernel *k, PyObject *scale)
{
    double value = PyFloat_AsDouble(scale);
    if (value == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    step(k, value);
    Py_RETURN_NONE;
}

/* Whole epochs: every batch of `batch_size` points in order, each followed by its update. An
 * epoch's loss is the mean of its batch losses weighted by their sizes (the batch loss itself
 * for one batch), written to losses[epoch]; its accuracy, the points each batch's loss found
 * labelled right (before that batch's update) over n, to accuracies[epoch]. Stops after the
 * first epoch whose loss is not finite, before that epoch's update when it was one batch;
 * returns the epochs run. */
static Py_ssize_t run_epochs(Kernel *k, const double *points, const double *labels, Py_ssize_t n,
                             Py_ssize_t batch_size, Py_ssize_t epochs, double *losses,
                             double *accuracies)
{
    for (Py_ssize_t epoch = 0; epoch < epochs; epoch++) {
        double loss;
        Py_ssize_t correct = 0;
        if (batch_size >= n) {
            loss = loss_and_gradient(k, points, n, labels, n, &correct) / (double)n;
            losses[epoch] = loss;
            accuracies[epoch] = (double)correct / (double)n;
            if (!isfinite(loss)) {
                return epoch + 1;
            }
            step(k, 1.0 / (double)n);
            continue;
        }
        loss = 0.0;
        for (Py_ssize_t start = 0; start < n; start += batch_size) {
            Py_ssize_t rows = n - start < batch_size ? n - start : batch_size;
            double batch_loss =
                loss_and_gradient(k, points + start, n, labels + start, rows, &correct)
                / (double)rows;
            step(k, 1.0 / (double)rows);
            loss += batch_loss * (double)rows / (double)n;
        }
        losses[epoch] = loss;
        accuracies[epoch] = (double)correct / (double)n;
        if (!isfinite(loss)) {
            return epoch + 1;
        }
    }
    return epochs;
}

static PyObject *Kernel_epochs(Kernel *k, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer points, labels, losses, accuracies;
    Py_ssize_t n, batch_size;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "epochs(points, labels, batch_size, losses, accuracies)");
        return NULL;
    }
    batch_size = PyLong_AsSsize_t(args[2]);
    if (batch_size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (get_batch(k, args[0], args[1], &points, &labels, &n) < 0) {
        return NULL;
    }
    if (get_doubles(args[3], &losses, 1, "losses") < 0) {
        PyBuffer_Release(&points);
        PyBuffer_Release(&labels);
        return NULL;
    }
    if (get_doubles(args[4], &accuracies, 1, "accuracies") < 0) {
        PyBuffer_Release(&points);
        PyBuffer_Release(&labels);
        PyBuffer_Release(&losses);
        return NULL;
    }
    Py_ssize_t done = -1;
    int same_length = accuracies.len == losses.len;
    if (batch_size >= 1 && same_length) {
        Py_BEGIN_ALLOW_THREADS
        done = run_epochs(k, points.buf, labels.buf, n, batch_size, losses.len / 8, losses.buf,
                          accuracies.buf);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&points);
    PyBuffer_Release(&labels);
    PyBuffer_Release(&losses);
    PyBuffer_Release(&accuracies);
    if (done < 0) {
        PyErr_SetString(PyExc_ValueError, same_length ? "batch_size must be at least 1"
                                                      : "losses and accuracies differ in length");
        return NULL;
    }
    return PyLong_FromSsize_t(done);
}

/* ---- Predictions: core/network.py's forward pass and sigmoid, point by point ----
 *
 * Every point's probability is computed on its own, in the same operations whatever the
 * batch around it, so a point gets the same probability alone or among 100,000; the layers
 * are summed in the order of forward() above, so a model predicts exactly as the kernel that
 * trained it saw it. Weights and biases are read in place from the network's arrays. */

enum { X1, X2, X1_SQUARED, X2_SQUARED, X1_X2, SIN_X1, SIN_X2, N_FEATURES };
static const char *FEATURE_NAMES[N_FEATURES] = {"x1", "x2", "x1^2", "x2^2", "x1*x2",
                                                "sin(x1)", "sin(x2)"};

#define MAX_FORWARD_LAYERS 65

typedef struct {
    int n_layers, activation, n_features;
    double slope;
    int features[N_FEATURES];
    Py_ssize_t sizes[MAX_FORWARD_LAYERS + 1], widest;
    Py_buffer weights[MAX_FORWARD_LAYERS], biases[MAX_FORWARD_LAYERS];
} Net;

static void release_net(Net *net, int layers)
{
    for (int i = 0; i < layers; i++) {
        PyBuffer_Release(&net->weights[i]);
        PyBuffer_Release(&net->biases[i]);
    }
}

static int name_index(PyObject *name, const char *const *names, int count, const char *what)
{
    const char *text = PyUnicode_AsUTF8(name);
    if (text == NULL) {
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (strcmp(text, names[i]) == 0) {
            return i;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown %s %R", what, name);
    return -1;
}

/* Reads a network: weights (tuple of (fan_in, fan_out) arrays), biases (tuple of (fan_out,)
 * arrays), the activation's name, leaky ReLU's slope and the feature names (a tuple). Shapes
 * are checked against each other; on success every buffer is held until release_net. */
static int get_net(Net *net, PyObject *const *args)
{
    PyObject *weights = args[0], *biases = args[1], *features = args[4];
    if (!PyTuple_Check(weights) || !PyTuple_Check(biases) || !PyTuple_Check(features)) {
        PyErr_SetString(PyExc_TypeError, "weights, biases and features: expected tuples");
        return -1;
    }
    Py_ssize_t layers = PyTuple_GET_SIZE(weights);
    Py_ssize_t n_features = PyTuple_GET_SIZE(features);
    if (layers < 1 || layers > MAX_FORWARD_LAYERS || PyTuple_GET_SIZE(biases) != layers) {
        PyErr_Format(PyExc_ValueError, "expected 1 to %d layers, with a bias each",
                     MAX_FORWARD_LAYERS);
        return -1;
    }
    if (n_features < 1 || n_features > N_FEATURES) {
        PyErr_SetString(PyExc_ValueError, "features: expected 1 to 7 names");
        return -1;
    }
    net->activation = name_index(args[2], ACTIVATION_NAMES, N_ACTIVATIONS, "activation");
    if (net->activation < 0) {
        return -1;
    }
    net->slope = PyFloat_AsDouble(args[3]);
    if (net->slope == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    net->n_features = (int)n_features;
    for (Py_ssize_t f = 0; f < n_features; f++) {
        net->features[f] =
            name_index(PyTuple_GET_ITEM(features, f), FEATURE_NAMES, N_FEATURES, "feature");
        if (net->features[f] < 0) {
            return -1;
        }
    }
    net->n_layers = (int)layers;
    net->sizes[0] = n_features;
    net->widest = 1;
    for (int i = 0; i < net->n_layers; i++) {
        if (get_doubles(PyTuple_GET_ITEM(weights, i), &net->weights[i], 0, "weights") < 0) {
            release_net(net, i);
            return -1;
        }
        if (get_doubles(PyTuple_GET_ITEM(biases, i), &net->biases[i], 0, "biases") < 0) {
            PyBuffer_Release(&net->weights[i]);
            release_net(net, i);
            return -1;
        }
        Py_ssize_t fan_in = net->sizes[i], fan_out = net->biases[i].len / 8;
        int last = i == net->n_layers - 1;
        if (net->weights[i].ndim != 2 || net->biases[i].ndim != 1
            || net->weights[i].shape[0] != fan_in
            || net->weights[i].shape[1] != fan_out || (last && fan_out != 1) || fan_out < 1) {
            release_net(net, i + 1);
            PyErr_Format(PyExc_ValueError,
                         "layer %d: weights must be (%zd, units) and biases (units,), the "
                         "last layer with one unit",
                         i, fan_in);
            return -1;
        }
        net->sizes[i + 1] = fan_out;
        net->widest = fan_out > net->widest ? fan_out : net->widest;
    }
    return 0;
}

/* The feature columns of `rows` points (x1, x2 interleaved), feature-major into `input`. */
static void feature_columns(const Net *net, const double *points, Py_ssize_t rows,
                            double *input)
{
    for (int f = 0; f < net->n_features; f++) {
        double *column = input + f * rows;
        for (Py_ssize_t i = 0; i < rows; i++) {
            double x1 = points[2 * i], x2 = points[2 * i + 1];
            switch (net->features[f]) {
            case X1: column[i] = x1; break;
            case X2: column[i] = x2; break;
            case X1_SQUARED: column[i] = x1 * x1; break;
            case X2_SQUARED: column[i] = x2 * x2; break;
            case X1_X2: column[i] = x1 * x2; break;
            case SIN_X1: column[i] = sin(x1); break;
            default: column[i] = sin(x2);
            }
        }
    }
}

/* Class-1 probabilities of up to TILE points (x1, x2 interleaved) into `out`; `work` holds
 * (features + 2 * widest) * rows doubles. Each layer's z is written to one of two buffers in
 * turn and activated in place. */
WIDE_VECTORS static void forward_tile(const Net *net, const double *points, Py_ssize_t rows,
                                      double *work, double *out)
{
    double *buffers[2] = {work + net->sizes[0] * rows,
                          work + (net->sizes[0] + net->widest) * rows};
    const double *input = work;
    feature_columns(net, points, rows, work);
    double *z = buffers[0];
    for (int layer = 0; layer < net->n_layers; layer++) {
        Py_ssize_t fan_in = net->sizes[layer], fan_out = net->sizes[layer + 1];
        z = buffers[layer & 1];
        layer_forward(input, rows, net->weights[layer].buf, net->biases[layer].buf, fan_in,
                      fan_out, rows, z);
        if (layer < net->n_layers - 1) {
            activate(net->activation, net->slope, z, z, fan_out * rows);
            input = z;
        }
    }
    for (Py_ssize_t i = 0; i < rows; i++) {
        out[i] = exp(-softplus(-z[i])); /* core/losses.py's sigmoid: exp(-logaddexp(0, -z)) */
    }
}

/* Probabilities of n points (x1, x2 interleaved) into out, tile by tile; -1 without memory. */
static int probabilities(const Net *net, const double *points, Py_ssize_t n, double *out)
{
    Py_ssize_t tile = n < TILE ? n : TILE;
    double *work = PyMem_RawMalloc((size_t)((net->sizes[0] + 2 * net->widest) * tile + 1)
                                   * sizeof(double));
    if (work == NULL) {
        return -1;
    }
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t rows = n - start < TILE ? n - start : TILE;
        forward_tile(net, points + 2 * start, rows, work, out + start);
    }
    PyMem_RawFree(work);
    return 0;
}

#define GIL_FREE_POINTS 1024 /* fewer points cost less than letting other threads run */

/* probabilities(weights, biases, activation, slope, features, points, out): the class-1
 * probability of each of the (n, 2) float64 points into the (n,) float64 out. */
static PyObject *forward_probabilities(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "probabilities(weights, biases, activation, slope, features, points, out)");
        return NULL;
    }
    Net net;
    if (get_net(&net, args) < 0) {
        return NULL;
    }
    Py_buffer points, out;
    if (get_doubles(args[5], &points, 0, "points") < 0) {
        release_net(&net, net.n_layers);
        return NULL;
    }
    if (get_doubles(args[6], &out, 1, "out") < 0) {
        PyBuffer_Release(&points);
        release_net(&net, net.n_layers);
        return NULL;
    }
    Py_ssize_t n = out.len / 8;
    int status = -2;
    if (points.ndim == 2 && points.shape[1] == 2 && out.ndim == 1 && points.shape[0] == n) {
        if (n >= GIL_FREE_POINTS) {
            Py_BEGIN_ALLOW_THREADS
            status = probabilities(&net, points.buf, n, out.buf);
            Py_END_ALLOW_THREADS
        }
        else {
            status = probabilities(&net, points.buf, n, out.buf);
        }
    }
    PyBuffer_Release(&points);
    PyBuffer_Release(&out);
    release_net(&net, net.n_layers);
    if (status == -2) {
        PyErr_SetString(PyExc_ValueError, "points must be (n, 2) and out (n,)");
        return NULL;
    }
    if (status < 0) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

/* classify(weights, biases, activation, slope, features, points, threshold): for a sequence
 * of (x1, x2) pairs of floats, (labels, probabilities, first) as lists, the label 1 where the
 * probability exceeds threshold; first is the index of the first point whose probability is
 * not a number, or -1. */
static PyObject *forward_classify(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "classify(weights, biases, activation, slope, features, points, threshold)");
        return NULL;
    }
    double threshold = PyFloat_AsDouble(args[6]);
    if (threshold == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    /* A tuple of our own: converting a number may run Python code (__float__), which must
     * not be able to free the pairs under us by changing the caller's list. */
    PyObject *pairs = PySequence_Tuple(args[5]);
    if (pairs == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(pairs);
    double *numbers = PyMem_RawMalloc((size_t)(3 * n + 1) * sizeof(double));
    if (numbers == NULL) {
        Py_DECREF(pairs);
        return PyErr_NoMemory();
    }
    double *values = numbers + 2 * n;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(pairs, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_Format(PyExc_TypeError, "points[%zd]: expected a tuple (x1, x2)", i);
            goto fail;
        }
        for (int c = 0; c < 2; c++) {
            numbers[2 * i + c] = PyFloat_AsDouble(PyTuple_GET_ITEM(pair, c));
            if (numbers[2 * i + c] == -1.0 && PyErr_Occurred()) {
                goto fail;
            }
        }
    }
    Net net;
    if (get_net(&net, args) < 0) {
        goto fail;
    }
    int status;
    if (n >= GIL_FREE_POINTS) {
        Py_BEGIN_ALLOW_THREADS
        status = probabilities(&net, numbers, n, values);
        Py_END_ALLOW_THREADS
    }
    else {
        status = probabilities(&net, numbers, n, values);
    }
    release_net(&net, net.n_layers);
    if (status < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_DECREF(pairs);
    PyObject *labels = PyList_New(n), *probabilities_list = PyList_New(n);
    if (labels == NULL || probabilities_list == NULL) {
        goto fail_lists;
    }
    Py_ssize_t first = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double p = values[i];
        PyObject *probability = PyFloat_FromDouble(p);
        if (probability == NULL) {
            goto fail_lists;
        }
        PyList_SET_ITEM(probabilities_list, i, probability);
        PyObject *label = PyLong_FromLong(p > threshold);
        if (label == NULL) {
            goto fail_lists;
        }
        PyList_SET_ITEM(labels, i, label);
        if (first < 0 && isnan(p)) {
            first = i;
        }
    }
    PyMem_RawFree(numbers);
    return Py_BuildValue("(NNn)", labels, probabilities_list, first);

fail_lists:
    Py_XDECREF(labels);
    Py_XDECREF(probabilities_list);
    PyMem_RawFree(numbers);
    return NULL;
fail:
    Py_DECREF(pairs);
    PyMem_RawFree(numbers);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"probabilities", (PyCFunction)(void (*)(void))forward_probabilities, METH_FASTCALL,
     "probabilities(weights, biases, activation, slope, features, points, out): class-1 "
     "probabilities of (n, 2) points into out (n,)."},
    {"classify", (PyCFunction)(void (*)(void))forward_classify, METH_FASTCALL,
     "classify(weights, biases, activation, slope, features, points, threshold) -> (labels, "
     "probabilities, index of the first point with no probability or -1) of (x1, x2) pairs."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef Kernel_methods[] = {
    {"loss_and_gradient", (PyCFunction)(void (*)(void))Kernel_loss_and_gradient, METH_FASTCALL,
     "loss_and_gradient(points, labels) -> (mean loss, accuracy) of the full batch; sets the "
     "gradient."},
    {"evaluate", (PyCFunction)(void (*)(void))Kernel_evaluate, METH_FASTCALL,
     "evaluate(points, labels) -> (mean cross-entropy, accuracy) of the current parameters."},
    {"step", (PyCFunction)Kernel_step, METH_O,
     "step(scale): one optimizer update from gradient * scale."},
    {"epochs", (PyCFunction)(void (*)(void))Kernel_epochs, METH_FASTCALL,
     "epochs(points, labels, batch_size, losses, accuracies) -> epochs run, up to len(losses); "
     "each epoch's loss and training accuracy are written to losses and accuracies."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KernelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "core._kernel.Kernel",
    .tp_basicsize = sizeof(Kernel),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One network's compiled training steps over a flat parameter vector.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Kernel_init,
    .tp_dealloc = (destructor)Kernel_dealloc,
    .tp_methods = Kernel_methods,
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT, .m_name = "core._kernel",
    .m_doc = "PlaneNet's compiled training kernel and forward pass (see core/compiled.py).",
    .m_size = -1, .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__kernel(void)
{
    if (PyType_Ready(&KernelType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&kernel_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Kernel", (PyObject *)&KernelType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
