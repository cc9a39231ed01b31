// The only file that imports CBLAS: OpenBLAS set-up (kernel choice, threads) and the GEMM,
// GEMV and level-1 wrappers that the rest of Recur calls.

import CBLAS
import RecurBase

#if canImport(Glibc)
    import Glibc
#endif

/// Recur's interface to OpenBLAS.
///
/// On first use it makes sure OpenBLAS runs the right kernels for the CPU: Debian's OpenBLAS
/// 0.3.21 (a DYNAMIC_ARCH build) does not recognise recent Xeons and falls back to its SSE3
/// "Prescott" kernels, about 5× slower than its AVX-512 ones. When `OPENBLAS_CORETYPE` is not
/// set, the library reports a core weaker than the CPU's vector extensions allow
/// (`/proc/cpuinfo` flags), Recur sets the variable to the matching core, re-runs OpenBLAS's
/// core detection in-process (`gotoblas_dynamic_quit` + `gotoblas_dynamic_init`, both exported
/// by DYNAMIC_ARCH builds) and removes the variable again so child processes detect afresh.
/// This works in every process that uses the library (the CLI, tests, examples), unlike a
/// re-`exec` of the CLI. A user-set `OPENBLAS_CORETYPE` always wins.
///
/// OpenBLAS itself runs single-threaded; `ThreadPool` parallelizes large products by splitting
/// them, so that OpenBLAS threads and Recur threads never compete for the two cores.
public enum BLAS {
    /// How the OpenBLAS kernel was chosen.
    public struct KernelChoice: Sendable, Equatable, CustomStringConvertible {
        /// The core whose kernels OpenBLAS runs now, as `openblas_get_corename()` names it.
        public var coreName: String
        /// The core OpenBLAS chose by itself before Recur intervened.
        public var detectedCoreName: String
        /// Why this kernel runs.
        public var reason: Reason
        /// OpenBLAS's build configuration string.
        public var configuration: String

        /// Why a kernel runs.
        public enum Reason: String, Sendable, Equatable {
            /// OpenBLAS recognised the CPU itself.
            case detected
            /// Recur upgraded a generic fallback to the CPU's real vector extensions.
            case upgraded
            /// The user set `OPENBLAS_CORETYPE`.
            case userForced = "user-forced"
        }

        /// The kernel and how it was chosen, such as `SkylakeX (OpenBLAS detected Prescott; upgraded by Recur)`.
        public var description: String {
            switch reason {
            case .detected: return "\(coreName) (detected by OpenBLAS)"
            case .upgraded:
                return "\(coreName) (OpenBLAS detected \(detectedCoreName); upgraded by Recur)"
            case .userForced: return "\(coreName) (OPENBLAS_CORETYPE set by the user)"
            }
        }
    }

    /// The kernel OpenBLAS runs; evaluating it performs the one-time set-up.
    public static let kernel: KernelChoice = configure()

    /// Performs the one-time set-up (kernel choice, single-threaded OpenBLAS) if not done yet,
    /// and puts the calling thread in Recur's floating-point mode (`FloatingPointMode`; a check
    /// of a few dozen cycles once set).
    @inline(__always)
    public static func prepare() {
        _ = kernel
        FloatingPointMode.flushSubnormalsOnCurrentThread()
    }

    /// The OpenBLAS core (as accepted by `OPENBLAS_CORETYPE`) best suited to a CPU with these
    /// `/proc/cpuinfo` flags, or nil when `current` is already as good.
    ///
    /// Pure function of its inputs, so both paths are unit-tested.
    public static func preferredCore(flags: Set<String>, current: String) -> String? {
        let wanted: (name: String, level: Int)
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains) {
            wanted = ("SkylakeX", 3)
        } else if ["avx2", "fma"].allSatisfy(flags.contains) {
            wanted = ("Haswell", 2)
        } else if flags.contains("avx") {
            wanted = ("Sandybridge", 1)
        } else {
            return nil
        }
        return vectorLevel(ofCore: current) < wanted.level ? wanted.name : nil
    }

    /// 3 for AVX-512 kernels, 2 for AVX2, 1 for AVX, 0 for SSE-only or unknown cores.
    static func vectorLevel(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "excavator": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 1
        default: return 0
        }
    }

    /// The CPU's feature flags from `/proc/cpuinfo` (empty where unavailable).
    public static let hostCPUFlags: Set<String> = cpuFlags()

    static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix("flags") {
                return Set(
                    text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(
                        String.init))
            }
        }
        return []
    }

    static func currentCoreName() -> String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    private static func configure() -> KernelChoice {
        Allocator.keepFreedMemory()
        let detected = currentCoreName()
        let configuration = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        var choice = KernelChoice(
            coreName: detected, detectedCoreName: detected, reason: .detected,
            configuration: configuration)
        if let forced = getenv("OPENBLAS_CORETYPE"), !String(cString: forced).isEmpty {
            choice.reason = .userForced
        } else if configuration.contains("DYNAMIC_ARCH"),
            let better = preferredCore(flags: hostCPUFlags, current: detected)
        {
            setenv("OPENBLAS_CORETYPE", better, 1)
            gotoblas_dynamic_quit()
            gotoblas_dynamic_init()
            unsetenv("OPENBLAS_CORETYPE")
            choice.coreName = currentCoreName()
            choice.reason = .upgraded
        }
        openblas_set_num_threads(1)
        return choice
    }

    // MARK: - GEMM

    /// Products below this many multiply-adds run on one thread.
    public static let parallelThreshold = 1 << 18

    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices, through `cblas_sgemm`.
    ///
    /// op(A) is M×K, op(B) is K×N, C is M×N; `lda`, `ldb`, `ldc` are row strides in elements.
    /// Products with more than `parallelThreshold` multiply-adds are split over
    /// `ThreadPool.shared` along the longer of M and N; each element is still computed by one
    /// OpenBLAS call over the whole K.
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        pool: ThreadPool = .shared
    ) {
        prepare()
        if m == 0 || n == 0 { return }
        if k == 0 {
            scaleMatrix(c, rows: m, columns: n, ldc: ldc, beta: beta)
            return
        }
        let work = m * n * k
        let parts = min(pool.threadCount, max(1, work / parallelThreshold))
        if parts <= 1 {
            gemmSerial(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        // OpenBLAS's result for an element can depend on the shape of the call it is part of,
        // so a busy pool (another computation in this process holds it) runs the same parts one
        // after another: the numbers never depend on what else runs. Only then is a job allocated.
        let busy = !pool.tryAcquire()
        let job = busy ? GemmJob() : pool.gemmJob
        job.configure(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        job.parts = ThreadPool.chunkCount(
            count: n >= m ? n : m, parts: parts, granularity: n >= m ? 16 : 8)
        job.splitColumns = n >= m
        if busy {
            for i in 0..<job.parts { job.run(task: i) }
        } else {
            pool.runHeld(tasks: job.parts, job: job)
        }
    }

    /// One `cblas_sgemm` call on the calling thread (`cblas_sgemv` for a single row).
    ///
    /// A one-row product (sampling one stream, one step at a time) is a matrix-vector product:
    /// OpenBLAS's GEMM would first copy all of op(B) into its packed layout (measured: 47 % of
    /// the time of `charlm sample` on one thread went to `sgemm_incopy`), GEMV reads B once.
    @inline(__always)
    public static func gemmSerial(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if m == 1 {
            // c[0, :] = alpha · a-row · op(B) + beta · c: y = op(B)ᵀ x.
            let incx = transposeA ? lda : 1
            if transposeB {
                // B is N×K: y = B x.
                cblas_sgemv(
                    CblasRowMajor, CblasNoTrans, blasint(n), blasint(k), alpha, b, blasint(ldb), a,
                    blasint(incx), beta, c, 1)
            } else {
                // B is K×N: y = Bᵀ x.
                cblas_sgemv(
                    CblasRowMajor, CblasTrans, blasint(k), blasint(n), alpha, b, blasint(ldb), a,
                    blasint(incx), beta, c, 1)
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k), alpha, a,
            blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    private static func scaleMatrix(
        _ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, beta: Float
    ) {
        for i in 0..<rows {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: columns)
            } else {
                for j in 0..<columns { row[j] *= beta }
            }
        }
    }

    /// y = alpha · op(A) · x + beta · y through `cblas_sgemv` (A is M×N row-major).
    public static func gemv(
        transpose: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>,
        lda: Int, x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        prepare()
        if m == 0 || n == 0 { return }
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), alpha, a,
            blasint(lda), x, 1, beta, y, 1)
    }
}

/// One GEMM split into column (or row) blocks, one per task; owned by a `ThreadPool` and reused.
public final class GemmJob: ParallelJob {
    var transposeA = false
    var transposeB = false
    var m = 0
    var n = 0
    var k = 0
    var alpha: Float = 1
    var beta: Float = 0
    var a = UnsafePointer<Float>.unset
    var b = UnsafePointer<Float>.unset
    var c = UnsafeMutablePointer<Float>.unset
    var lda = 0
    var ldb = 0
    var ldc = 0
    var parts = 1
    var splitColumns = true

    init() {}

    func configure(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        (self.transposeA, self.transposeB, self.m, self.n, self.k) = (
            transposeA, transposeB, m, n, k
        )
        (self.alpha, self.a, self.lda, self.b, self.ldb, self.beta, self.c, self.ldc) = (
            alpha, a, lda, b, ldb, beta, c, ldc
        )
    }

    /// Multiplies block `i` of the split product.
    public func run(task i: Int) {
        if splitColumns {
            let r = ThreadPool.chunk(i, of: parts, count: n, granularity: 16)
            let bPart = transposeB ? b + r.lowerBound * ldb : b + r.lowerBound
            BLAS.gemmSerial(
                transposeA, transposeB, m, r.count, k, alpha, a, lda, bPart, ldb, beta,
                c + r.lowerBound, ldc)
        } else {
            let r = ThreadPool.chunk(i, of: parts, count: m, granularity: 8)
            let aPart = transposeA ? a + r.lowerBound : a + r.lowerBound * lda
            BLAS.gemmSerial(
                transposeA, transposeB, r.count, n, k, alpha, aPart, lda, b, ldb, beta,
                c + r.lowerBound * ldc, ldc)
        }
    }
}
