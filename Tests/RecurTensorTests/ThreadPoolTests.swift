import RecurTensor
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ThreadPool", .serialized)
struct ThreadPoolTests {
    @Test("runs every task exactly once")
    func everyTaskOnce() {
        let pool = ThreadPool(threadCount: 3)
        for tasks in [0, 1, 2, 3, 7, 100] {
            let counter = Atomic<Int>(0)
            let seen = Mutex<[Int]>([])
            pool.run(tasks: tasks) { i in
                counter.add(1, ordering: .relaxed)
                seen.withLock { $0.append(i) }
            }
            let total = counter.load(ordering: .relaxed)
            let order = seen.withLock { $0.sorted() }
            #expect(total == tasks)
            #expect(order == Array(0..<tasks))
        }
    }

    @Test("a task may wait for a lower-numbered task")
    func orderedWaits() {
        for threads in [1, 2, 4] {
            let pool = ThreadPool(threadCount: threads)
            let progress = Atomic<Int>(0)
            let ok = Atomic<Bool>(true)
            pool.run(tasks: 4) { i in
                // Task i waits until task i-1 has finished: a chain, like the layer wavefront.
                while progress.load(ordering: .acquiring) < i {}
                if progress.load(ordering: .relaxed) != i { ok.store(false, ordering: .relaxed) }
                progress.store(i + 1, ordering: .releasing)
            }
            let fine = ok.load(ordering: .relaxed)
            let finalProgress = progress.load(ordering: .relaxed)
            #expect(fine)
            #expect(finalProgress == 4)
        }
    }

    @Test("nested calls run serially instead of deadlocking")
    func nested() {
        let pool = ThreadPool(threadCount: 2)
        let counter = Atomic<Int>(0)
        pool.run(tasks: 2) { _ in
            pool.run(tasks: 3) { _ in counter.add(1, ordering: .relaxed) }
        }
        let total = counter.load(ordering: .relaxed)
        #expect(total == 6)
    }

    @Test("many short jobs in a row")
    func manyJobs() {
        let pool = ThreadPool(threadCount: 2)
        let counter = Atomic<Int>(0)
        for _ in 0..<20_000 {
            pool.run(tasks: 2) { _ in counter.add(1, ordering: .relaxed) }
        }
        let first = counter.load(ordering: .relaxed)
        #expect(first == 40_000)
        pool.setThreadCount(1)
        pool.run(tasks: 5) { _ in counter.add(1, ordering: .relaxed) }
        let second = counter.load(ordering: .relaxed)
        #expect(second == 40_005)
    }

    @Test("chunks cover the range with aligned bounds")
    func chunks() {
        let c = ThreadPool.chunks(count: 100, parts: 3, granularity: 16)
        #expect(c.first?.lowerBound == 0)
        #expect(c.last?.upperBound == 100)
        for (a, b) in zip(c, c.dropFirst()) {
            #expect(a.upperBound == b.lowerBound)
            #expect(a.upperBound % 16 == 0)
        }
        #expect(ThreadPool.chunks(count: 5, parts: 4, granularity: 16) == [0..<5])
        #expect(ThreadPool.chunks(count: 0, parts: 2, granularity: 1).isEmpty)
    }
}

/// Records which thread ran each task, and meets at a barrier (which needs real concurrency).
final class BarrierJob: ParallelJob, @unchecked Sendable {
    let barrier: SpinBarrier
    var threads: [UInt]
    var rounds: Int
    init(parties: Int, rounds: Int) {
        barrier = SpinBarrier(parties: parties)
        threads = Array(repeating: 0, count: parties)
        self.rounds = rounds
    }
    func run(task: Int) {
        threads[task] = UInt(pthread_self())
        for _ in 0..<rounds { barrier.wait() }
    }
}

@Suite("ThreadPool concurrency", .serialized)
struct ThreadPoolConcurrencyTests {
    @Test("runConcurrently runs every task on its own thread at the same time")
    func concurrent() {
        let pool = ThreadPool(threadCount: 2)
        let job = BarrierJob(parties: 2, rounds: 1000)
        #expect(pool.runConcurrently(tasks: 2, job: job))
        #expect(job.threads[0] != job.threads[1])
        // More tasks than threads cannot be guaranteed: refused, nothing run.
        #expect(!pool.runConcurrently(tasks: 3, job: BarrierJob(parties: 3, rounds: 1)))
    }

    @Test("a busy pool refuses concurrent jobs instead of deadlocking")
    func busy() {
        let pool = ThreadPool(threadCount: 2)
        #expect(pool.tryAcquire())
        #expect(!pool.runConcurrently(tasks: 2, job: BarrierJob(parties: 2, rounds: 1)))
        pool.release()
        #expect(pool.runConcurrently(tasks: 2, job: BarrierJob(parties: 2, rounds: 10)))
    }
}
