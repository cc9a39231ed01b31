/// Whether an option given with `--resume` contradicts the saved run: options that a resumed
/// run may not change are optional, so nil means "not given" and is never a conflict.
func resumeConflict<T: Equatable>(_ given: T?, _ saved: T) -> Bool {
    given.map { $0 != saved } ?? false
}
