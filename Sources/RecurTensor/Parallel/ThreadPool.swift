import RecurBase
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fixed set of worker threads that run the parallel parts of Recur's kernels.
///
/// OpenBLAS runs single-threaded inside Recur; large GEMMs are split across this pool instead,
/// and the recurrent layers split their time loops on it (by batch rows or hidden units). One
/// pool owning every core means OpenBLAS threads and Recur threads never compete for the same
/// core (DESIGN.md, "OpenBLAS").
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

    /// The pool used by Recur's kernels.
    ///
    /// Configure it once at start-up with `setThreadCount`.
    public static let shared = ThreadPool(threadCount: ThreadPool.defaultThreadCount)

    /// The processors this process may run on (its affinity mask, which `mpirun`, `taskset` and
    /// cgroups narrow), or the online processors when the mask cannot be read.
    public static var defaultThreadCount: Int {
        allowedProcessors() ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The number of CPUs in this process's affinity mask (`Cpus_allowed` in
    /// `/proc/self/status`; Swift's Glibc does not import `sched_getaffinity`).
    static func allowedProcessors() -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(
                decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            let mask = text.dropFirst("Cpus_allowed:".count)
            var count = 0
            for character in mask {
                if let digit = character.hexDigitValue { count += digit.nonzeroBitCount }
            }
            return count > 0 ? count : nil
        }
        return nil
    }

    /// Threads that execute a job, the caller included.
    public private(set) var threadCount: Int

    private var job: (any ParallelJob)?
    /// generation (bits 40–63) | task count (bits 20–39) | next task index (bits 0–19).
    private let ticket = Atomic<UInt64>(0)
    private let finishedTasks = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// The thread inside `dispatch` sleeps on `done` (after spinning) until the last task ends.
    private let callerSleeping = Atomic<Bool>(false)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let done: UnsafeMutablePointer<pthread_cond_t>
    /// Whether workers are bound to CPUs 1, 2, … (`setPinning`).
    public private(set) var pinsWorkers = false
    private var threads: [pthread_t] = []
    private let running = Mutex<Bool>(false)

    private static let maximumTasks = 1 << 20

    /// Creates a pool with `threadCount - 1` worker threads.
    public init(threadCount: Int) {
        precondition(
            threadCount >= 1, "ThreadPool: thread count must be at least 1, got \(threadCount)")
        self.threadCount = threadCount
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        done = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        startWorkers(threadCount - 1)
    }

    deinit {
        stopWorkers()
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        wake.deallocate()
        done.deallocate()
    }

    /// Changes the number of threads (the caller included).
    ///
    /// Must not be called while a job runs.
    public func setThreadCount(_ count: Int) {
        precondition(
            count >= 1, "ThreadPool.setThreadCount: count must be at least 1, got \(count)")
        guard count != threadCount else { return }
        stopWorkers()
        threadCount = count
        startWorkers(count - 1)
    }

    /// Binds workers to CPUs 1, 2, … (true) or lets the scheduler place them (false, the
    /// default).
    ///
    /// Pinning gains a few percent on a dedicated machine; beside other work it hurts
    /// badly (a pinned worker cannot move off a core another process keeps busy), so it is
    /// opt-in (`recur --pin-threads`). Must not be called while a job runs.
    public func setPinning(_ pin: Bool) {
        guard pin != pinsWorkers else { return }
        stopWorkers()
        pinsWorkers = pin
        startWorkers(threadCount - 1)
    }

    /// Runs `body(0) … body(tasks - 1)` on the pool and returns when all have finished.
    ///
    /// Tasks start in increasing index order. A call made while the pool is busy (from inside a
    /// task, or from another thread) runs its tasks serially on the calling thread. Wrapping the
    /// closure costs one small allocation; hot paths use `run(tasks:job:)` with a reused job.
    public func run(tasks: Int, _ body: (Int) -> Void) {
        if tasks <= 0 { return }
        if tasks == 1 || threadCount == 1 {
            for i in 0..<tasks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            run(tasks: tasks, job: ClosureJob(escaping))
        }
    }

    /// Runs `job.run(task:)` for tasks `0..<tasks` on the pool (serially on the calling thread
    /// when the pool is busy).
    ///
    /// Allocates nothing.
    public func run(tasks: Int, job: any ParallelJob) {
        if tasks <= 0 { return }
        if tasks == 1 || threadCount == 1 || !tryAcquire() {
            for i in 0..<tasks { job.run(task: i) }
            return
        }
        dispatch(tasks: tasks, job: job)
        release()
    }

    /// Runs the tasks of `job` on distinct threads at the same time, so that they may wait for
    /// each other (for example at a `SpinBarrier`).
    ///
    /// Returns false, running nothing, when that cannot be guaranteed: the pool is busy or has
    /// fewer threads than `tasks`.
    public func runConcurrently(tasks: Int, job: any ParallelJob) -> Bool {
        if tasks == 1 {
            job.run(task: 0)
            return true
        }
        guard tasks <= threadCount, tryAcquire() else { return false }
        dispatch(tasks: tasks, job: job)
        release()
        return true
    }

    /// Takes the pool for one job; false when another job holds it.
    public func tryAcquire() -> Bool {
        running.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
    }

    /// Runs `job` on a pool the caller holds (`tryAcquire`), then releases it.
    public func runHeld(tasks: Int, job: any ParallelJob) {
        if tasks <= 1 {
            for i in 0..<tasks { job.run(task: i) }
        } else {
            dispatch(tasks: tasks, job: job)
        }
        release()
    }

    /// A reusable job for `BLAS.gemm`'s parallel split, configured while the pool is held.
    public let gemmJob = GemmJob()

    /// Returns the pool taken with `tryAcquire`.
    public func release() {
        running.withLock { $0 = false }
    }

    /// Publishes `job` to the workers, runs tasks on the calling thread too, and waits for all.
    ///
    /// The caller must hold the pool (`tryAcquire`).
    private func dispatch(tasks: Int, job: any ParallelJob) {
        precondition(tasks < ThreadPool.maximumTasks, "ThreadPool.run: too many tasks (\(tasks))")
        self.job = job
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
        // Wait for the workers' tasks: spin briefly (they usually finish within microseconds),
        // then sleep until the last one signals, so a descheduled worker on a busy machine
        // costs this thread no CPU.
        var wait = SpinWait()
        while finishedTasks.load(ordering: .acquiring) < tasks {
            if wait.shouldSleep(after: ThreadPool.waitSpinSeconds) {
                SpinWait.sleep(
                    lock: lock, condition: done,
                    register: { callerSleeping.store(true, ordering: .sequentiallyConsistent) },
                    unregister: { callerSleeping.store(false, ordering: .relaxed) },
                    while: { finishedTasks.load(ordering: .sequentiallyConsistent) < tasks })
            }
        }
        self.job = nil
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks whose bounds are
    /// multiples of `granularity` (except the last) and runs `body(range)` for each in parallel.
    public func parallelRanges(count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = ThreadPool.chunkCount(
            count: count, parts: threadCount, granularity: granularity)
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
    public static func chunk(_ index: Int, of parts: Int, count: Int, granularity: Int) -> Range<
        Int
    > {
        let blocks = (count + granularity - 1) / granularity
        let start = Swift.min(count, (blocks * index / parts) * granularity)
        let end = Swift.min(count, (blocks * (index + 1) / parts) * granularity)
        return start..<end
    }

    /// The chunks of `chunk(_:of:count:granularity:)` as an array.
    public static func chunks(count: Int, parts: Int, granularity: Int) -> [Range<Int>] {
        let n = chunkCount(count: count, parts: parts, granularity: granularity)
        return (0..<n).map { chunk($0, of: n, count: count, granularity: granularity) }.filter {
            !$0.isEmpty
        }
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
            job?.run(task: Int(index))
            let finished = finishedTasks.add(1, ordering: .sequentiallyConsistent).newValue
            if finished == Int(count) && callerSleeping.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(done)
                pthread_mutex_unlock(lock)
            }
        }
    }

    /// How long an idle worker spins before it sleeps.
    ///
    /// A sleeping worker takes hundreds of microseconds to wake on a virtual machine (measured: a
    /// job of two 500 µs tasks then runs serially), so workers keep spinning through the short gaps
    /// between the jobs of a training step, as OpenMP runtimes do (Intel's KMP_BLOCKTIME is 200
    /// ms).
    public static let spinSeconds = 0.02

    /// How long a thread waiting for the rest of a job (`dispatch`, `SpinBarrier`) spins before
    /// it sleeps: long enough for the usual microsecond-scale imbalance, short enough that a
    /// worker descheduled by another process costs no more than this.
    public static let waitSpinSeconds = 0.0002

    private func workerLoop(index: Int, startGeneration: UInt64) {
        let cpus = ThreadPool.defaultThreadCount
        if pinsWorkers && cpus > 1 { ThreadPool.bindCurrentThread(toCPU: (index + 1) % cpus) }
        FloatingPointMode.flushSubnormalsOnCurrentThread()
        // The generation when the worker was created, not when it first runs: a job published
        // in between is still this worker's to join (a barrier job would wait for it forever).
        var seen = startGeneration
        while true {
            var wait = SpinWait()
            var current = ticket.load(ordering: .acquiring) >> 40
            while current == seen && !stopping.load(ordering: .relaxed) {
                if wait.shouldSleep(after: ThreadPool.spinSeconds) {
                    SpinWait.sleep(
                        lock: lock, condition: wake,
                        register: { sleepers.add(1, ordering: .sequentiallyConsistent) },
                        unregister: { sleepers.subtract(1, ordering: .relaxed) },
                        while: {
                            ticket.load(ordering: .sequentiallyConsistent) >> 40 == seen
                                && !stopping.load(ordering: .sequentiallyConsistent)
                        })
                    wait = SpinWait()
                }
                current = ticket.load(ordering: .acquiring) >> 40
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = current
            drainTasks(generation: current)
        }
    }

    /// Binds the calling thread to one CPU (Linux `sched_setaffinity`, looked up at run time
    /// because Glibc's module map hides GNU extensions).
    ///
    /// Returns false where unsupported.
    ///
    /// Workers are bound to CPUs 1, 2, … so that the scheduler cannot stack a spinning worker
    /// on the caller's CPU: measured on a 2-vCPU VM, an unbound fresh worker often shared the
    /// caller's CPU for tens of milliseconds, and jobs ran serially at half speed.
    @discardableResult
    public static func bindCurrentThread(toCPU cpu: Int) -> Bool {
        typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
        guard cpu >= 0 && cpu < 1024,
            let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity")
        else {
            return false
        }
        let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 16)  // cpu_set_t: 1024 bits
        mask[cpu / 64] |= 1 << UInt64(cpu % 64)
        return mask.withUnsafeBytes { setAffinity(0, $0.count, $0.start) } == 0
    }

    /// Binds the calling thread to CPU 0, away from the workers, when the pool pins them
    /// (`setPinning(true)`); otherwise does nothing.
    ///
    /// Call it from the thread that drives training (the CLI and the examples do): with pinned
    /// workers the scheduler could otherwise run it on a worker's CPU.
    public func bindCallingThread() {
        if pinsWorkers && threadCount > 1 && ThreadPool.defaultThreadCount > 1 {
            ThreadPool.bindCurrentThread(toCPU: 0)
        }
    }

    private final class WorkerContext {
        // unowned(unsafe): `deinit` joins every worker before the pool's memory goes away, and
        // a worker still polls the pool's atomics while `deinit` runs (plain `unowned` traps).
        unowned(unsafe) let pool: ThreadPool
        let index: Int
        let startGeneration: UInt64
        init(pool: ThreadPool, index: Int, startGeneration: UInt64) {
            self.pool = pool
            self.index = index
            self.startGeneration = startGeneration
        }
    }

    private func startWorkers(_ count: Int) {
        stopping.store(false, ordering: .sequentiallyConsistent)
        for i in 0..<count {
            let generation = ticket.load(ordering: .acquiring) >> 40
            let context = Unmanaged.passRetained(
                WorkerContext(pool: self, index: i, startGeneration: generation)
            ).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(
                &thread, nil,
                { raw in
                    guard let raw else { return nil }
                    let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                    context.pool.workerLoop(
                        index: context.index, startGeneration: context.startGeneration)
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

/// Work for `ThreadPool.run(tasks:job:)`: a reference type, so that hot paths keep one instance
/// and dispatch it without allocating.
public protocol ParallelJob: AnyObject {
    /// Runs task `task`.
    func run(task: Int)
}

/// A closure as a job (one allocation per dispatch).
final class ClosureJob: ParallelJob {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
    func run(task: Int) { body(task) }
}

/// A reusable barrier for the tasks of one concurrent job.
///
/// `wait()` returns once all `parties` have called it. It spins first (yielding now and then),
/// which is right for the microsecond-scale steps of a recurrence on dedicated cores, and
/// sleeps on a condition variable after `ThreadPool.waitSpinSeconds`, so that a party whose
/// thread another process has descheduled does not make the others burn their cores.
///
/// The parties share it through their job (not `Sendable`): the counters are atomic and the
/// mutex and condition variable are used only through pthread calls.
public final class SpinBarrier {
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let released: UnsafeMutablePointer<pthread_cond_t>
    /// Number of tasks that meet at the barrier.
    public let parties: Int

    /// A barrier for `parties` tasks.
    public init(parties: Int) {
        precondition(parties >= 1, "SpinBarrier: parties must be at least 1")
        self.parties = parties
        lock = .allocate(capacity: 1)
        released = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(released, nil)
    }

    deinit {
        pthread_cond_destroy(released)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        released.deallocate()
    }

    /// Blocks until every party has arrived.
    public func wait() {
        if parties == 1 { return }
        let current = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            // A sleeper registers before it re-checks the generation, so it either sees the new
            // generation or is counted here and woken.
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(released)
                pthread_mutex_unlock(lock)
            }
            return
        }
        var wait = SpinWait()
        while generation.load(ordering: .acquiring) == current {
            if wait.shouldSleep(after: ThreadPool.waitSpinSeconds) {
                SpinWait.sleep(
                    lock: lock, condition: released,
                    register: { sleepers.add(1, ordering: .sequentiallyConsistent) },
                    unregister: { sleepers.subtract(1, ordering: .sequentiallyConsistent) },
                    while: { generation.load(ordering: .sequentiallyConsistent) == current })
                return
            }
        }
    }
}

/// Spin first, then sleep: the waiting policy of every thread in the pool.
///
/// `shouldSleep` is called once per spin. It yields the CPU every 64 spins (if the scheduler put
/// two of our threads on one CPU, the other gets to run instead of waiting for a time slice) and
/// reports, from the monotonic clock checked every 256 spins, when the thread has spun long
/// enough to sleep instead. `sleep` then blocks on a condition variable: the waiter registers
/// itself under the lock before re-checking its condition, and the thread that changes the
/// condition looks for registered sleepers after changing it (both with sequentially consistent
/// atomics), so a wake-up is never lost.
struct SpinWait {
    private var spins = 0
    private var start = 0.0

    @inline(__always)
    mutating func shouldSleep(after seconds: Double) -> Bool {
        spins += 1
        if spins & 63 == 0 { sched_yield() }
        guard spins & 255 == 0 else { return false }
        let now = MonotonicClock.seconds()
        if start == 0 { start = now }
        return now - start > seconds
    }

    static func sleep(
        lock: UnsafeMutablePointer<pthread_mutex_t>,
        condition: UnsafeMutablePointer<pthread_cond_t>, register: () -> Void,
        unregister: () -> Void, while waiting: () -> Bool
    ) {
        pthread_mutex_lock(lock)
        register()
        while waiting() { pthread_cond_wait(condition, lock) }
        unregister()
        pthread_mutex_unlock(lock)
    }
}
