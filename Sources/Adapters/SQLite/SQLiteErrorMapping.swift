import HopGatePorts
import SQLiteNIO

extension DomainStoreError {
    /// The domain-level form of an SQLite failure. The driver's message may quote SQL, so it is
    /// kept only as `cause`; `message` names the operation that failed.
    static func sqlite(_ error: any Error, while operation: String) -> DomainStoreError {
        if let error = error as? DomainStoreError { return error }
        guard let sqlite = error as? SQLiteError else {
            return DomainStoreError(.unavailable, "SQLite \(operation) failed", cause: error)
        }
        switch sqlite.reason {
        case .constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return DomainStoreError(.conflict, "\(operation): the domain is already registered", cause: sqlite)
        case .corrupt, .corruptIndex, .corruptSequenceSchema, .corruptVirtualTable, .notADatabase, .format:
            return DomainStoreError(.corrupted, "SQLite \(operation) failed: the database file is damaged", cause: sqlite)
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .lockedBySharedCache:
            return DomainStoreError(.unavailable, "SQLite \(operation) failed: the database is locked by another process", cause: sqlite)
        case .full:
            return DomainStoreError(.unavailable, "SQLite \(operation) failed: the disk is full", cause: sqlite)
        case .readOnly, .readonlyDirectory, .readonlyCantLock, .readonlyInRecovery, .readonlyInRollback, .readonlyBackingMoved,
             .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .permission, .auth:
            return DomainStoreError(.unavailable, "SQLite \(operation) failed: the database file cannot be opened for writing (\(sqlite.reason))", cause: sqlite)
        case .ioError, .ioErrorFailedRead, .ioErrorIncompleteRead, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedDirSync,
             .ioErrorFailedTruncate, .ioErrorFailedStat, .ioErrorFailedUnlock, .ioErrorFailedReadLock,
             .ioErrorFailedDelete, .ioErrorFailedAccess, .ioErrorFailedLockCheck,
             .ioErrorFailedAdvisoryLock, .ioErrorFailedClose, .ioErrorFailedSharedMemOpen, .ioErrorFailedSharedMemSize,
             .ioErrorFailedSharedMemMap, .ioErrorFailedDeleteNonexistent, .ioErrorFailedMemoryMap, .ioErrorCantFindTempdir,
             .ioErrorCorruptedFilesystem:
            return DomainStoreError(
                .unavailable, "SQLite \(operation) failed: the disk refused it (\(sqlite.reason)); is the data directory's file system read-only, full or failing?",
                cause: sqlite)
        default:
            return DomainStoreError(.internal, "SQLite \(operation) failed (\(sqlite.reason))", cause: sqlite)
        }
    }
}

extension DomainStoreError {
    /// Whether this failure is SQLite's "database is locked" (worth retrying).
    var isLocked: Bool {
        guard let sqlite = cause as? SQLiteError else { return false }
        switch sqlite.reason {
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .lockedBySharedCache: return true
        default: return false
        }
    }
}
