// Pointer helpers for kernels and C calls, without force unwraps: the start of a buffer, and
// the placeholder address of a pointer field not yet set.
//
// `baseAddress` is optional because a buffer over an empty collection may have none. Recur's
// kernels are handed non-empty buffers (an empty batch, vocabulary or file is refused before any
// kernel runs), so an empty one here is a programming error and stops with a message.

extension UnsafeBufferPointer {
    /// The address of the first element (the buffer must not be empty).
    @inlinable package var start: UnsafePointer<Element> {
        guard let base = baseAddress else {
            preconditionFailure("an empty buffer has no start address")
        }
        return base
    }
}

extension UnsafeMutableBufferPointer {
    /// The address of the first element (the buffer must not be empty).
    @inlinable package var start: UnsafeMutablePointer<Element> {
        guard let base = baseAddress else {
            preconditionFailure("an empty buffer has no start address")
        }
        return base
    }
}

extension UnsafeRawBufferPointer {
    /// The address of the first byte (the buffer must not be empty).
    @inlinable package var start: UnsafeRawPointer {
        guard let base = baseAddress else {
            preconditionFailure("an empty buffer has no start address")
        }
        return base
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The address of the first byte (the buffer must not be empty).
    @inlinable package var start: UnsafeMutableRawPointer {
        guard let base = baseAddress else {
            preconditionFailure("an empty buffer has no start address")
        }
        return base
    }
}

extension UnsafePointer {
    /// A non-null address that is never read: the value of a job's pointer field before the job
    /// is configured (reading it before then is a bug, and address 64 faults at once as null
    /// would).
    @inlinable package static var unset: UnsafePointer {
        guard let address = UnsafePointer(bitPattern: 64) else {
            preconditionFailure("unreachable")
        }
        return address
    }
}

extension UnsafeMutablePointer {
    /// A non-null address that is never read or written: the value of a job's pointer field
    /// before the job is configured (see `UnsafePointer.unset`).
    @inlinable package static var unset: UnsafeMutablePointer {
        guard let address = UnsafeMutablePointer(bitPattern: 64) else {
            preconditionFailure("unreachable")
        }
        return address
    }
}
