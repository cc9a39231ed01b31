#if canImport(Glibc)
    import Glibc
#endif

/// The per-thread floating-point mode Recur computes in.
///
/// Subnormal Float32 values (below 1.2e-38) take a microcode assist on x86, about 100× slower
/// than a normal operation. Training produces them: Adam's second-moment estimates and the
/// gradients of saturated gates decay towards zero and linger there. Measured on the
/// translation benchmark before this mode existed, throughput fell from 2000 to 1250 pairs/s
/// over ten epochs. Like PyTorch's `torch.set_flush_denormal`, Recur flushes subnormal results
/// to zero (FTZ), so none are produced and none come back as inputs. Subnormal inputs from the
/// user (denormals-are-zero, DAZ) are left alone: `log(1e-42)` stays finite. The change to
/// results is below 1.2e-38 in absolute value, and deterministic.
public enum FloatingPointMode {
    /// Sets flush-to-zero on the calling thread (x86-64; a no-op
    /// elsewhere).
    ///
    /// Every compute thread calls it: the thread pool's workers do at start, and the
    /// driving thread through `BLAS.prepare()`.
    public static func flushSubnormalsOnCurrentThread() {
        #if arch(x86_64) && canImport(Glibc)
            var env = fenv_t()
            guard fegetenv(&env) == 0 else { return }
            let flushToZero: UInt32 = 0x8000
            if env.__mxcsr & flushToZero == 0 {
                env.__mxcsr |= flushToZero
                fesetenv(&env)
            }
        #endif
    }

    /// Whether subnormal results are flushed to zero on the calling thread.
    public static var flushesSubnormals: Bool {
        #if arch(x86_64) && canImport(Glibc)
            var env = fenv_t()
            return fegetenv(&env) == 0 && env.__mxcsr & 0x8000 != 0
        #else
            return false
        #endif
    }
}
