// Products of a few-row matrix with a fixed, pre-packed matrix: the recurrent GEMMs of an RNN.
//
// A recurrent layer multiplies by the same W_hh at every time step, with only B (the batch, 50
// to 64 rows) rows on the other side. OpenBLAS re-packs the whole weight on every call
// (`sgemm_itcopy`, ~10 % of an LSTM's training time at B1-L) because its interface cannot keep
// a packed operand; MKL's `cblas_sgemm_pack` exists for exactly this. `PanelGEMM` packs the
// weight once per forward or backward pass into 16-column panels (one AVX-512 register wide,
// `[K][16]` contiguous each) and multiplies with an (up to) 8-row × 3-panel register tile: per k, three
// panel loads, eight broadcasts and 24 fused multiply-adds, with the 24 accumulators in
// registers for the whole K loop (generic over the tile size with `InlineArray`, which the
// compiler unrolls and keeps in zmm registers).
//
// Without AVX-512 (16 ymm registers, a `SIMD16<Float>` taking two) that tile would keep 48
// registers live and spill on every k: measured on an AVX2 EPYC (Zen 3), the 8 × 3 tile made the
// recurrent products 57 % of a 2×512 LSTM's training time and the whole run 5× slower. There
// the tile is at most 6 rows × 1 panel (12 accumulators, 2 loads and a broadcast: 15 registers).
// The manifest defines `RECUR_AVX512` when it compiles for an AVX-512 CPU.
//
// Columns come in `blocks` blocks of `blockWidth` columns (an LSTM's four gates of H units),
// each padded to a multiple of 16 in the packed form, so that a thread can multiply the units
// it owns in every block, whatever H is.

/// Packing and multiplication for `C = A · B` with B packed once and reused.
public enum PanelGEMM {
    /// Columns per panel (one `SIMD16<Float>`).
    public static let panelWidth = 16

    #if RECUR_AVX512
        /// Rows of A per register tile.
        static let tileRows = 8
        /// Panels of B per register tile.
        static let tilePanels = 3
    #else
        static let tileRows = 6
        static let tilePanels = 1
    #endif

    /// Panels per block of `blockWidth` columns.
    @inline(__always)
    public static func panelsPerBlock(_ blockWidth: Int) -> Int {
        (blockWidth + panelWidth - 1) / panelWidth
    }

    /// Floats the packed form of a K-row matrix with `blocks` blocks of `blockWidth` columns takes.
    public static func packedCount(k: Int, blocks: Int, blockWidth: Int) -> Int {
        k * blocks * panelsPerBlock(blockWidth) * panelWidth
    }

    /// Packs B `[K, blocks·blockWidth]` into `packed` (`packedCount` floats): panel p of block
    /// q holds `B[0..<K, q·blockWidth + 16p ..< +16]` as `[K][16]`, zero-padded past the block.
    ///
    /// - Parameters:
    ///   - source: B row-major with row stride `stride` (B[k, n] at `source[k·stride + n]`), or,
    ///     when `transposed`, Bᵀ (B[k, n] at `source[n·stride + k]`, e.g. a weight `[N, K]`).
    ///   - stride: floats between consecutive rows of `source`.
    ///   - k: rows of B (K).
    ///   - blocks: column blocks (an LSTM's 4 gates).
    ///   - blockWidth: columns per block (H).
    ///   - transposed: whether `source` holds Bᵀ.
    ///   - packed: the destination, `packedCount(k:blocks:blockWidth:)` floats.
    public static func pack(
        _ source: UnsafePointer<Float>, stride: Int, k: Int, blocks: Int, blockWidth: Int,
        transposed: Bool,
        into packed: UnsafeMutablePointer<Float>
    ) {
        let perBlock = panelsPerBlock(blockWidth)
        for q in 0..<blocks {
            for p in 0..<perBlock {
                let panel = packed + (q * perBlock + p) * k * panelWidth
                let first = q * blockWidth + p * panelWidth
                let width = Swift.min(panelWidth, blockWidth - p * panelWidth)
                if transposed {
                    if width < panelWidth { panel.update(repeating: 0, count: k * panelWidth) }
                    for j in 0..<width {
                        let column = source + (first + j) * stride
                        for kk in 0..<k { panel[kk * panelWidth + j] = column[kk] }
                    }
                } else {
                    for kk in 0..<k {
                        let row = panel + kk * panelWidth
                        row.update(from: source + kk * stride + first, count: width)
                        if width < panelWidth {
                            (row + width).update(repeating: 0, count: panelWidth - width)
                        }
                    }
                }
            }
        }
    }

    /// `C[0..<m, cols] = (accumulate ? C : 0) + A · B[:, cols]`, where `cols` are the columns
    /// `q·blockWidth + u` for every block q in `0..<blocks` and unit u in `units` (whose lower
    /// bound must be a multiple of 16), and B is in the form `pack` wrote.
    ///
    /// - Parameters:
    ///   - m: rows of A and C.
    ///   - k: columns of A, rows of B (K).
    ///   - a: A `[m, K]` row-major with row stride `lda`.
    ///   - lda: floats between consecutive rows of A.
    ///   - packed: B as `pack` wrote it.
    ///   - blocks: column blocks of B.
    ///   - blockWidth: columns per block.
    ///   - units: the columns of every block to compute.
    ///   - c: C with row stride `ldc`; only the selected columns of rows `0..<m` are written.
    ///   - ldc: floats between consecutive rows of C.
    ///   - accumulate: add to C instead of overwriting it.
    public static func multiply(
        m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
        blocks: Int,
        blockWidth: Int, units: Range<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool
    ) {
        precondition(
            units.lowerBound % panelWidth == 0 && units.upperBound <= blockWidth,
            "PanelGEMM: bad unit range \(units)")
        if m == 0 || units.isEmpty { return }
        let perBlock = panelsPerBlock(blockWidth)
        let unitPanels = (units.count + panelWidth - 1) / panelWidth
        let firstPanel = units.lowerBound / panelWidth
        let panelCount = blocks * unitPanels
        // Panel j of the selection: its packed data, its first column in C and its width.
        @inline(__always) func panel(_ j: Int) -> (
            UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int
        ) {
            let q = j / unitPanels
            let p = firstPanel + j % unitPanels
            let u = p * panelWidth
            return (
                packed + (q * perBlock + p) * k * panelWidth, c + q * blockWidth + u,
                Swift.min(panelWidth, units.upperBound - u)
            )
        }
        var j = 0
        while j < panelCount {
            // Groups of three panels; 4 left over go as 2 + 2 rather than 3 + 1.
            let left = panelCount - j
            let count = tilePanels == 1 ? 1 : left == 4 ? 2 : Swift.min(tilePanels, left)
            let p0 = panel(j)
            switch count {
            case 3:
                let p1 = panel(j + 1)
                let p2 = panel(j + 2)
                rowTiles(
                    m: m, k: k, a: a, lda: lda, panels: [p0.0, p1.0, p2.0], c: [p0.1, p1.1, p2.1],
                    widths: [p0.2, p1.2, p2.2], ldc: ldc, accumulate: accumulate)
            case 2:
                let p1 = panel(j + 1)
                rowTiles(
                    m: m, k: k, a: a, lda: lda, panels: [p0.0, p1.0], c: [p0.1, p1.1],
                    widths: [p0.2, p1.2], ldc: ldc, accumulate: accumulate)
            default:
                rowTiles(
                    m: m, k: k, a: a, lda: lda, panels: [p0.0], c: [p0.1], widths: [p0.2], ldc: ldc,
                    accumulate: accumulate)
            }
            j += count
        }
    }

    /// All rows against N panels, in tiles of at most `tileRows` rows of nearly equal size (25
    /// rows, 8 at most: 7 + 6 + 6 + 6), so that no tile is left with one or two rows.
    @inline(__always)
    private static func rowTiles<let N: Int>(
        m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        panels: InlineArray<N, UnsafePointer<Float>>,
        c: InlineArray<N, UnsafeMutablePointer<Float>>, widths: InlineArray<N, Int>, ldc: Int,
        accumulate: Bool
    ) {
        let tiles = (m + tileRows - 1) / tileRows
        var row = 0
        @inline(__always) func rows<let R: Int>(_ pointers: InlineArray<R, UnsafePointer<Float>>) {
            tile(
                k: k, a: pointers, panels: panels, c: c, row: row, ldc: ldc, widths: widths,
                accumulate: accumulate)
        }
        for index in 0..<tiles {
            let r = a + row * lda
            let count = (m * (index + 1)) / tiles - (m * index) / tiles
            switch count {
            case 8:
                rows([
                    r, r + lda, r + 2 * lda, r + 3 * lda, r + 4 * lda, r + 5 * lda, r + 6 * lda,
                    r + 7 * lda,
                ])
            case 7:
                rows([r, r + lda, r + 2 * lda, r + 3 * lda, r + 4 * lda, r + 5 * lda, r + 6 * lda])
            case 6: rows([r, r + lda, r + 2 * lda, r + 3 * lda, r + 4 * lda, r + 5 * lda])
            case 5: rows([r, r + lda, r + 2 * lda, r + 3 * lda, r + 4 * lda])
            case 4: rows([r, r + lda, r + 2 * lda, r + 3 * lda])
            case 3: rows([r, r + lda, r + 2 * lda])
            case 2: rows([r, r + lda])
            default: rows([r])
            }
            row += count
        }
    }

    /// One R-row × N-panel register tile over the whole K: `C[row..<row+R, panels] (+)= A_rows · B_panels`.
    ///
    /// A panel's columns past its width are not stored.
    @inline(__always)
    private static func tile<let R: Int, let N: Int>(
        k: Int, a: InlineArray<R, UnsafePointer<Float>>,
        panels: InlineArray<N, UnsafePointer<Float>>,
        c: InlineArray<N, UnsafeMutablePointer<Float>>, row: Int, ldc: Int,
        widths: InlineArray<N, Int>, accumulate: Bool
    ) {
        var sums = InlineArray<R, InlineArray<N, SIMD16<Float>>>(
            repeating: InlineArray(repeating: SIMD16<Float>()))
        for kk in 0..<k {
            let o = kk &* panelWidth
            var v = InlineArray<N, SIMD16<Float>>(repeating: SIMD16<Float>())
            for j in 0..<N {
                v[j] = UnsafeRawPointer(panels[j] + o).loadUnaligned(as: SIMD16<Float>.self)
            }
            for r in 0..<R {
                let x = SIMD16<Float>(repeating: a[r][kk])
                for j in 0..<N { sums[r][j] = VectorMath.madd(x, v[j], sums[r][j]) }
            }
        }
        for r in 0..<R {
            for j in 0..<N {
                let p = c[j] + (row + r) * ldc
                let width = widths[j]
                let sum = accumulate ? sums[r][j] + VectorMath.load(p, count: width) : sums[r][j]
                VectorMath.store(sum, p, count: width)
            }
        }
    }
}
