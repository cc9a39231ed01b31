import ArgumentParser
import RecurDistributed
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// The processes running this command: one, or the ranks of an MPI job started by `mpirun`.
///
/// Under a launcher with several processes (`OMPI_COMM_WORLD_SIZE` / `PMI_SIZE` > 1) `start`
/// loads Open MPI and joins the job, so the training commands train one model together; rank 0
/// alone prints and writes files. Without libmpi the command refuses with one line rather than
/// train several separate models over the same files.
enum Job {
    /// The processes of this job (`SingleProcess` unless started by an MPI launcher).
    nonisolated(unsafe) private(set) static var group: any ProcessGroup = SingleProcess()

    /// The processes a launcher started for this job: Open MPI's `OMPI_COMM_WORLD_SIZE`, or
    /// `PMI_SIZE` (MPICH, Intel MPI, Slurm's PMI); 1 when no launcher says so.
    static func launchedSize(_ variable: (String) -> String? = environment) -> Int {
        for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let text = variable(name), let size = Int(text), size > 0 { return size }
        }
        return 1
    }

    /// This process's rank in the launcher's job (0 when no launcher says so).
    static func launchedRank(_ variable: (String) -> String? = environment) -> Int {
        for name in ["OMPI_COMM_WORLD_RANK", "PMI_RANK"] {
            if let text = variable(name), let rank = Int(text), rank >= 0 { return rank }
        }
        return 0
    }

    /// The processes the launcher started on this host (`OMPI_COMM_WORLD_LOCAL_SIZE`,
    /// `MPI_LOCALNRANKS`; 1 without a launcher).
    static func localProcesses(_ variable: (String) -> String? = environment) -> Int {
        for name in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"] {
            if let text = variable(name), let size = Int(text), size > 0 { return size }
        }
        return 1
    }

    /// Threads per process when `--threads` is not given: the CPUs this process may use; when
    /// the launcher did not bind it (`--bind-to none`: every process may use every CPU), those
    /// CPUs shared among the processes on this host, so they do not time-slice.
    static var defaultThreads: Int {
        let allowed = ThreadPool.defaultThreadCount
        let local = localProcesses()
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return local > 1 && allowed >= online ? max(1, allowed / local) : allowed
    }

    /// Joins the MPI job when a launcher started several processes; otherwise does nothing.
    ///
    /// - Returns: the error line when MPI cannot start (printed by the first process only).
    static func start() -> String? {
        let size = launchedSize()
        guard size > 1 else { return nil }
        do {
            let world = try MPIProcessGroup.start()
            group = world
            return nil
        } catch {
            return
                "Error: a launcher started \(size) copies of recur, but \(error); without MPI they would train \(size) separate models over the same files, so run one process or install Open MPI\n"
        }
    }

    /// " over N processes" for throughput over several processes, "" for one.
    static var over: String { group.size > 1 ? " over \(group.size) processes" : "" }

    /// Whether this process prints (rank 0, or the only process).
    static var prints: Bool { group.size == 1 ? launchedRank() == 0 : group.isRoot }

    /// Ends the MPI job normally (every process, after its last collective).
    static func finish() {
        if group.size > 1 { MPIProcessGroup.finish() }
    }

    /// Exits after a failed command.
    ///
    /// Rank 0 (or the only process) prints the error at once. Another rank waits a moment
    /// first: when rank 0 met the same error (a bad option, a checkpoint that does not fit),
    /// `mpirun` ends the job meanwhile and the error is reported once; when the error is this
    /// rank's own (a file missing on its host), it is printed, marked with the rank. A failure
    /// the processes agreed on (`RootProcessFailed`) is rank 0's to report; one of another rank
    /// (`OtherProcessFailed`) is that rank's, and rank 0 waits long enough for it to say so.
    static func exit(withError error: any Error) -> Never {
        guard group.size > 1 else { Recur.exit(withError: error) }
        // mpirun's SIGTERM must end a waiting process at once, not ask training to stop.
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        let code = Recur.exitCode(for: error).rawValue
        if error is OtherProcessFailed {
            if group.isRoot { usleep(3_000_000) }
            Glibc.exit(code)
        }
        if group.isRoot { Recur.exit(withError: error) }
        if !(error is RootProcessFailed || error is ExitCode) {
            usleep(1_500_000)
            Output.error("Error (rank \(group.rank)): \(error)\n")
        }
        Glibc.exit(code)
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
