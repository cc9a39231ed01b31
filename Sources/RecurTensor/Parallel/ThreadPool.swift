#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// A fixed set of worker threads that run the parallel parts of Recur's kernels.
///
/// OpenBLAS runs single-threaded inside Recur; large GEMMs are split across this pool instead,
/// and the recurrent layers run their layer wavefront on it. One pool owning every core means
/// OpenBLAS threads and Recur threads never compete for the same core (DESIGN.md, "OpenBLAS").
///
/// `run(tasks:_:)` hands tasks out in increasing index order to the calling thread and the
/// workers. A task may wait (spin) for a *lower-numbered* task's progress: because tasks are
/// started in order, that task has always been started, so such waits cannot deadlock, even if
/// one thread ends up running every task.
///
/// Workers spin briefly after each job (the next one usually follows within microseconds in a
/// training step) and then sleep on a condition variable.
public final class ThreadPool: @unchecked Sendable {
    // @unchecked Sendable: `job` is written only by the thread inside `run`, before it publishes
    // a new `ticket` and after every task of the previous job has finished. A worker reads `job`
    // only after claiming a task of the current job with a compare-and-swap on `ticket`, so it
    // never reads it while it is being written. Every other shared field is an Atomic, or is
    // guarded by `lock`.

    /// The pool used by Recur's kernels. Configure it once at start-up with `setThreadCount`.
    public static let shared = ThreadPool(threadCount: ThreadPool.defaultThreadCount)

    /// The number of online processors.
    public static var defaultThreadCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Threads that execute a job, the caller included.
    public private(set) var threadCount: Int

    private var job: ((Int) -> Void)?
    /// generation (bits 40–63) | task count (bits 20–39) | next task index (bits 0–19).
    private let ticket = Atomic<UInt64>(0)
    private let finishedTasks = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [pthread_t] = []
    private let running = Mutex<Bool>(false)

    private static let maximumTasks = 1 << 20

    /// Creates a pool with `threadCount - 1` worker threads.
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "ThreadPool: thread count must be at least 1, got \(threadCount)")
        self.threadCount = threadCount
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        startWorkers(threadCount - 1)
    }

    deinit {
        stopWorkers()
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        wake.deallocate()
    }

    /// Changes the number of threads (the caller included). Must not be called while a job runs.
    public func setThreadCount(_ count: Int) {
        precondition(count >= 1, "ThreadPool.setThreadCount: count must be at least 1, got \(count)")
        guard count != threadCount else { return }
        stopWorkers()
        threadCount = count
        startWorkers(count - 1)
    }

    /// Runs `body(0) … body(tasks - 1)` on the pool and returns when all have finished.
    ///
    /// Tasks start in increasing index order. A call made while the pool is busy (from inside a
    /// task, or from another thread) runs its tasks serially on the calling thread.
    public func run(tasks: Int, _ body: (Int) -> Void) {
        if tasks <= 0 { return }
        precondition(tasks < ThreadPool.maximumTasks, "ThreadPool.run: too many tasks (\(tasks))")
        let acquired =
            tasks > 1 && threadCount > 1
            && running.withLock { busy in
                if busy { return false }
                busy = true
                return true
            }
        if !acquired {
            for i in 0..<tasks { body(i) }
            return
        }
        defer { running.withLock { $0 = false } }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            finishedTasks.store(0, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 40) &+ 1
            let published = (generation << 40) | (UInt64(tasks) << 20)
            ticket.store(published, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            drainTasks(generation: published >> 40)
            var spins = 0
            while finishedTasks.load(ordering: .acquiring) < tasks {
                spins += 1
                if spins > 2_000 { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks whose bounds are
    /// multiples of `granularity` (except the last) and runs `body(range)` for each in parallel.
    public func parallelRanges(count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = ThreadPool.chunkCount(count: count, parts: threadCount, granularity: granularity)
        if parts <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        run(tasks: parts) { i in
            body(ThreadPool.chunk(i, of: parts, count: count, granularity: granularity))
        }
    }

    /// How many chunks `chunk(_:of:count:granularity:)` makes: at most `parts`, at least one
    /// per `granularity` elements (0 when `count` is 0).
    @inlinable
    public static func chunkCount(count: Int, parts: Int, granularity: Int) -> Int {
        guard count > 0 else { return 0 }
        let blocks = (count + granularity - 1) / granularity
        return Swift.max(1, Swift.min(parts, blocks))
    }

    /// Chunk `index` of `parts` contiguous ranges covering `0..<count`, with bounds on multiples
    /// of `granularity` (computed without allocating).
    @inlinable
    public static func chunk(_ index: Int, of parts: Int, count: Int, granularity: Int) -> Range<Int> {
        let blocks = (count + granularity - 1) / granularity
        let start = Swift.min(count, (blocks * index / parts) * granularity)
        let end = Swift.min(count, (blocks * (index + 1) / parts) * granularity)
        return start..<end
    }

    /// The chunks of `chunk(_:of:count:granularity:)` as an array.
    public static func chunks(count: Int, parts: Int, granularity: Int) -> [Range<Int>] {
        let n = chunkCount(count: count, parts: parts, granularity: granularity)
        return (0..<n).map { chunk($0, of: n, count: count, granularity: granularity) }.filter { !$0.isEmpty }
    }

    /// Claims and runs tasks of job `generation` until none is left.
    private func drainTasks(generation: UInt64) {
        while true {
            let current = ticket.load(ordering: .acquiring)
            let index = current & 0xF_FFFF
            let count = (current >> 20) & 0xF_FFFF
            guard current >> 40 == generation, index < count else { return }
            guard
                ticket.compareExchange(
                    expected: current, desired: current + 1, ordering: .acquiringAndReleasing
                ).exchanged
            else { continue }
            // The claimed task is unfinished, so the job cannot end and `job` stays valid.
            job?(Int(index))
            finishedTasks.add(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = ticket.load(ordering: .acquiring) >> 40
        while true {
            var spins = 0
            var current = ticket.load(ordering: .acquiring) >> 40
            while current == seen && !stopping.load(ordering: .relaxed) {
                spins += 1
                if spins < 20_000 {
                    // busy-wait: in a training step the next job usually follows within µs
                } else if spins < 20_200 {
                    sched_yield()
                } else {
                    pthread_mutex_lock(lock)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while ticket.load(ordering: .sequentiallyConsistent) >> 40 == seen
                        && !stopping.load(ordering: .sequentiallyConsistent)
                    {
                        pthread_cond_wait(wake, lock)
                    }
                    sleepers.subtract(1, ordering: .relaxed)
                    pthread_mutex_unlock(lock)
                    spins = 0
                }
                current = ticket.load(ordering: .acquiring) >> 40
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = current
            drainTasks(generation: current)
        }
    }

    private final class WorkerContext {
        // unowned(unsafe): `deinit` joins every worker before the pool's memory goes away, and
        // a worker still polls the pool's atomics while `deinit` runs (plain `unowned` traps).
        unowned(unsafe) let pool: ThreadPool
        init(pool: ThreadPool) { self.pool = pool }
    }

    private func startWorkers(_ count: Int) {
        stopping.store(false, ordering: .sequentiallyConsistent)
        for _ in 0..<count {
            let context = Unmanaged.passRetained(WorkerContext(pool: self)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                context.pool.workerLoop()
                return nil
            }, context)
            precondition(status == 0, "ThreadPool: pthread_create failed with \(status)")
            threads.append(thread)
        }
    }

    private func stopWorkers() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }
}
