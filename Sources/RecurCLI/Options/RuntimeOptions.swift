import ArgumentParser
import RecurTensor

/// Options every compute-heavy command shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Worker threads, the calling thread included (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 || threads > 256 {
            throw CLIError("--threads must be between 1 and 256, got \(threads)")
        }
    }

    /// Applies the thread count to the shared pool and prepares OpenBLAS.
    func apply() {
        ThreadPool.shared.setThreadCount(threads ?? ThreadPool.defaultThreadCount)
        // The CLI owns its main thread: bind it to CPU 0 so the pool's workers (bound to 1, 2, …)
        // never share a CPU with it.
        ThreadPool.shared.bindCallingThread()
        BLAS.prepare()
    }

    var threadCount: Int { threads ?? ThreadPool.defaultThreadCount }
}
