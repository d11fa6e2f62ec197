// L2-regularised logistic regression over masked-mean-pooled token features, trained full-batch with
// L-BFGS (deterministic: no sampling, fixed iteration order, float64 throughout).
//
// A document is its token ids (already truncated to what the model sees). Its features are
//   x_d = token counts / token count      (a bag of words, mean-pooled: one weight u_j per vocabulary id)
//   g_d = sum_j x_dj * E_j                (the mean-pooled word vectors; E = embedding table, optional)
// and its spam score is z_d = b + x_d . u + g_d . w. Every term is linear in the mean, so the model
// folds into one number per vocabulary id, t_j = u_j + E_j . w, with z_d = b + mean over tokens of t:
// the ONNX graph is a Gather from that table followed by a masked mean.

/**
 * Documents as a CSR matrix of mean-pooled counts plus a dense [n, dims] matrix of pooled vectors.
 * @typedef {{ n: number, dims: number, rowPtr: Int32Array, col: Int32Array, val: Float64Array,
 *             pooled: Float64Array, y: Float64Array }} Dataset
 */

/**
 * @param {ArrayLike<number>[]} tokenIdLists one list of token ids per document
 * @param {number[]} labels 1 = spam, 0 = ham
 * @param {Float32Array|null} table embedding table, row-major [vocab, dims], or null for none
 * @param {number} dims embedding width (0 when table is null)
 * @returns {Dataset}
 */
export function makeDataset(tokenIdLists, labels, table, dims) {
  const n = tokenIdLists.length;
  const rowPtr = new Int32Array(n + 1);
  const cols = [];
  const vals = [];
  const width = table ? dims : 0;
  const pooled = new Float64Array(n * width);
  tokenIdLists.forEach((tokenIds, d) => {
    const counts = new Map();
    for (const id of tokenIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    const keys = [...counts.keys()].sort((a, b) => a - b);
    const len = Math.max(tokenIds.length, 1);
    for (const k of keys) {
      const x = counts.get(k) / len;
      cols.push(k);
      vals.push(x);
      if (table) {
        for (let c = 0; c < width; c++) pooled[d * width + c] += x * table[k * width + c];
      }
    }
    rowPtr[d + 1] = cols.length;
  });
  return {
    n,
    dims: width,
    rowPtr,
    col: Int32Array.from(cols),
    val: Float64Array.from(vals),
    pooled,
    y: Float64Array.from(labels),
  };
}

/** The documents of `data` whose index passes `keep`, as a new Dataset. */
export function subset(data, keep) {
  const rows = [];
  for (let d = 0; d < data.n; d++) if (keep(d)) rows.push(d);
  const rowPtr = new Int32Array(rows.length + 1);
  let nnz = 0;
  for (const d of rows) nnz += data.rowPtr[d + 1] - data.rowPtr[d];
  const col = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  const pooled = new Float64Array(rows.length * data.dims);
  const y = new Float64Array(rows.length);
  let p = 0;
  rows.forEach((d, r) => {
    for (let k = data.rowPtr[d]; k < data.rowPtr[d + 1]; k++, p++) {
      col[p] = data.col[k];
      val[p] = data.val[k];
    }
    rowPtr[r + 1] = p;
    pooled.set(data.pooled.subarray(d * data.dims, (d + 1) * data.dims), r * data.dims);
    y[r] = data.y[d];
  });
  return { n: rows.length, dims: data.dims, rowPtr, col, val, pooled, y };
}

export function logistic(z) {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + exp(z)) without overflow. */
function softplus(z) {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Spam scores z_d for parameters theta = [b, w_0..w_{dims-1}, u_0..u_{vocab-1}]. */
export function decisionScores(theta, data, out = new Float64Array(data.n)) {
  const { n, dims, rowPtr, col, val, pooled } = data;
  const base = 1 + dims;
  for (let d = 0; d < n; d++) {
    let z = theta[0];
    const off = d * dims;
    for (let c = 0; c < dims; c++) z += theta[1 + c] * pooled[off + c];
    for (let k = rowPtr[d], end = rowPtr[d + 1]; k < end; k++) z += theta[base + col[k]] * val[k];
    out[d] = z;
  }
  return out;
}

/** Mean log-loss plus (lambdaW/2)|w|^2 + (lambdaU/2)|u|^2; writes the gradient into grad. */
function lossAndGradient(theta, grad, data, lambdaU, lambdaW, z) {
  const { n, dims, rowPtr, col, val, pooled, y } = data;
  const base = 1 + dims;
  grad.fill(0);
  decisionScores(theta, data, z);
  let loss = 0;
  for (let d = 0; d < n; d++) {
    loss += softplus(z[d]) - y[d] * z[d];
    const r = (logistic(z[d]) - y[d]) / n;
    grad[0] += r;
    const off = d * dims;
    for (let c = 0; c < dims; c++) grad[1 + c] += r * pooled[off + c];
    for (let k = rowPtr[d], end = rowPtr[d + 1]; k < end; k++) grad[base + col[k]] += r * val[k];
  }
  loss /= n;
  let reg = 0;
  for (let i = 1; i < theta.length; i++) {
    const lambda = i < base ? lambdaW : lambdaU;
    reg += lambda * theta[i] * theta[i];
    grad[i] += lambda * theta[i];
  }
  return loss + reg / 2;
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Fit the model with L-BFGS on a diagonally preconditioned problem.
 * @param {Dataset} data
 * @param {{vocabSize: number, lambdaU: number, lambdaW: number, maxIter?: number, tol?: number, history?: number}} opts
 * @returns {{ bias: number, w: Float64Array, u: Float64Array, iterations: number, loss: number }}
 */
export function trainLogistic(data, opts) {
  const { vocabSize, lambdaU, lambdaW, maxIter = 1000, tol = 1e-7, history = 10 } = opts;
  const { n, dims, rowPtr, col, val, pooled } = data;
  const base = 1 + dims;
  const size = base + vocabSize;
  // Optimise phi = theta / scale, scale = 1/sqrt(bound on the Hessian diagonal + lambda): rare words
  // have tiny mean-pooled features and would otherwise make the problem badly conditioned.
  const scale = new Float64Array(size);
  scale[0] = 0.25 * n;
  for (let d = 0; d < n; d++) {
    for (let c = 0; c < dims; c++) scale[1 + c] += 0.25 * pooled[d * dims + c] ** 2;
    for (let k = rowPtr[d]; k < rowPtr[d + 1]; k++) scale[base + col[k]] += 0.25 * val[k] ** 2;
  }
  for (let i = 0; i < size; i++) {
    const lambda = i === 0 ? 0 : i < base ? lambdaW : lambdaU;
    scale[i] = 1 / Math.sqrt(scale[i] / n + lambda + 1e-12);
  }
  const thetaBuf = new Float64Array(size);
  const z = new Float64Array(n);
  const evaluate = (phi, gradPhi) => {
    for (let i = 0; i < size; i++) thetaBuf[i] = phi[i] * scale[i];
    const l = lossAndGradient(thetaBuf, gradPhi, data, lambdaU, lambdaW, z);
    for (let i = 0; i < size; i++) gradPhi[i] *= scale[i];
    return l;
  };

  const phi = new Float64Array(size);
  const grad = new Float64Array(size);
  let loss = evaluate(phi, grad);
  const S = [];
  const Y = [];
  const rho = [];
  const alpha = new Float64Array(history);
  const dir = new Float64Array(size);
  const nextPhi = new Float64Array(size);
  const nextGrad = new Float64Array(size);
  let iter = 0;
  while (iter < maxIter) {
    iter++;
    // Two-loop recursion: dir = -H grad.
    for (let i = 0; i < size; i++) dir[i] = -grad[i];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], dir);
      const yk = Y[k];
      for (let i = 0; i < size; i++) dir[i] -= alpha[k] * yk[i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < size; i++) dir[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], dir);
      const sk = S[k];
      for (let i = 0; i < size; i++) dir[i] += sk[i] * (alpha[k] - beta);
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): forget the history, take steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < size; i++) dir[i] = -grad[i];
      slope = dot(grad, dir);
    }
    // Backtracking line search (Armijo).
    let step = 1;
    let nextLoss = loss;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) nextPhi[i] = phi[i] + step * dir[i];
      nextLoss = evaluate(nextPhi, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    const s = new Float64Array(size);
    const yv = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = nextPhi[i] - phi[i];
      yv[i] = nextGrad[i] - grad[i];
    }
    const sy = dot(s, yv);
    phi.set(nextPhi);
    grad.set(nextGrad);
    const improvement = loss - nextLoss;
    loss = nextLoss;
    if (sy > 1e-16) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > history) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if (improvement >= 0 && improvement < tol * Math.max(1, Math.abs(loss))) break;
  }
  const theta = phi.map((p, i) => p * scale[i]);
  return { bias: theta[0], w: theta.slice(1, base), u: theta.slice(base), iterations: iter, loss, theta };
}

/**
 * Fold the fitted model into one spam score per vocabulary id: t_j = u_j + E_j . w.
 * @returns {Float64Array}
 */
export function foldTokenScores(model, table, dims) {
  const t = Float64Array.from(model.u);
  if (table && dims > 0) {
    for (let j = 0; j < t.length; j++) {
      let s = 0;
      for (let c = 0; c < dims; c++) s += table[j * dims + c] * model.w[c];
      t[j] += s;
    }
  }
  return t;
}

/** Mulberry32: a small seeded PRNG (fold assignment). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
