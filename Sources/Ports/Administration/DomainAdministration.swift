import Foundation
public import HopGateDomain
public import Logging

/// The administrator's use cases: register a domain (its client API key is returned once),
/// unregister it with the matching key, check whether it exists, read its status, list, and
/// rotate its key. Every action writes one audit log line (never a key).
public struct DomainAdministration: Sendable {
    /// A registration's result: the record and the only copy of its key.
    public struct Issued: Sendable {
        public let record: DomainRecord
        /// The client API key. Shown once; only its hash is stored.
        public let clientAPIKey: ClientAPIKey
    }

    /// A page of ``list(after:limit:)``.
    public struct Page: Sendable {
        public let records: [DomainRecord]
        /// The cursor of the next page; nil on the last page.
        public let nextCursor: DomainName?
    }

    /// The largest page ``list(after:limit:)`` returns.
    public static let maximumPageSize = 500

    private let store: any DomainStore
    private let clock: any WallClock
    private let observers: [any DomainLifecycleObserver]
    private let logger: Logger

    public init(store: any DomainStore, clock: any WallClock = SystemWallClock(), observers: [any DomainLifecycleObserver] = [], logger: Logger) {
        self.store = store
        self.clock = clock
        self.observers = observers
        var logger = logger
        logger[metadataKey: "component"] = "admin"
        self.logger = logger
    }

    /// Registers `domain` with a fresh client API key.
    public func register(domain rawDomain: String, memo rawMemo: String?) async throws(AdministrationError) -> Issued {
        let domain = try parse(rawDomain)
        let memo: Memo
        do { memo = try Memo(rawMemo ?? "") } catch { throw AdministrationError(.invalidMemo, "memo: \(error.description)") }
        let key = ClientAPIKey.generate()
        let now = clock.now().truncatedToStorageResolution
        let record = DomainRecord(domain: domain, keyHash: key.hash, memo: memo, createdAt: now)
        do {
            try await store.create(record)
        } catch where error.code == .conflict {
            audit("register", domain, outcome: "conflict")
            throw AdministrationError(.conflict, "the domain \(domain) is already registered")
        } catch {
            auditStoreFailure("register", domain, error)
            throw AdministrationError(storeError: error)
        }
        audit("register", domain, outcome: "ok", extra: ["client_api_key": "\(key.masked)"])
        for observer in observers { await observer.domainRegistered(record) }
        return Issued(record: record, clientAPIKey: key)
    }

    /// Unregisters `domain`; the caller must present its current client API key.
    public func unregister(domain rawDomain: String, clientAPIKey rawKey: String) async throws(AdministrationError) {
        let domain = try parse(rawDomain)
        let key: ClientAPIKey
        do { key = try ClientAPIKey(parsing: rawKey) } catch {
            audit("unregister", domain, outcome: "invalid_key")
            throw AdministrationError(.invalidKey, "client_api_key: \(error.message)")
        }
        let deleted: Bool
        do { deleted = try await store.delete(domain, keyHash: key.hash) } catch {
            auditStoreFailure("unregister", domain, error)
            throw AdministrationError(storeError: error)
        }
        guard deleted else {
            let exists = (try? await store.find(domain)) != nil
            audit("unregister", domain, outcome: exists ? "key_mismatch" : "not_found")
            throw exists
                ? AdministrationError(.keyMismatch, "the client API key does not match the domain \(domain)")
                : AdministrationError(.notFound, "the domain \(domain) is not registered")
        }
        audit("unregister", domain, outcome: "ok")
        for observer in observers { await observer.domainUnregistered(domain) }
    }

    /// Whether `domain` is registered, without an audit line (the edge asks on every request for
    /// a host without a tunnel). A store failure counts as "unknown" (false).
    public func isRegistered(_ domain: DomainName) async -> Bool {
        (try? await store.find(domain)) != nil
    }

    /// Whether `domain` is registered.
    public func exists(domain rawDomain: String) async throws(AdministrationError) -> Bool {
        let domain = try parse(rawDomain)
        let found = try await find(domain) != nil
        audit("exists", domain, outcome: found ? "found" : "not_found")
        return found
    }

    /// The record of `domain`. - Throws: ``AdministrationError/Code/notFound``.
    public func status(domain rawDomain: String) async throws(AdministrationError) -> DomainRecord {
        let domain = try parse(rawDomain)
        guard let record = try await find(domain) else {
            audit("status", domain, outcome: "not_found")
            throw AdministrationError(.notFound, "the domain \(domain) is not registered")
        }
        audit("status", domain, outcome: "ok")
        return record
    }

    /// A page of registered domains in name order.
    public func list(after rawCursor: String?, limit: Int) async throws(AdministrationError) -> Page {
        guard (1...Self.maximumPageSize).contains(limit) else {
            throw AdministrationError(.invalidArgument, "limit must be between 1 and \(Self.maximumPageSize)")
        }
        let cursor = try rawCursor.map { raw throws(AdministrationError) in try parse(raw, field: "after") }
        let records: [DomainRecord]
        do { records = try await store.list(after: cursor, limit: limit + 1) } catch { throw AdministrationError(storeError: error) }
        let page = Array(records.prefix(limit))
        logger.info("admin action", metadata: ["action": "list", "outcome": "ok", "count": "\(page.count)"])
        return Page(records: page, nextCursor: records.count > limit ? page.last?.domain : nil)
    }

    /// Replaces the client API key of `domain`; the old key stops working at once.
    public func rotateKey(domain rawDomain: String) async throws(AdministrationError) -> Issued {
        let domain = try parse(rawDomain)
        let key = ClientAPIKey.generate()
        let updated: DomainRecord?
        do { updated = try await store.replaceKeyHash(of: domain, with: key.hash, at: clock.now().truncatedToStorageResolution) } catch {
            auditStoreFailure("rotate_key", domain, error)
            throw AdministrationError(storeError: error)
        }
        guard let updated else {
            audit("rotate_key", domain, outcome: "not_found")
            throw AdministrationError(.notFound, "the domain \(domain) is not registered")
        }
        audit("rotate_key", domain, outcome: "ok", extra: ["client_api_key": "\(key.masked)"])
        for observer in observers { await observer.domainKeyRotated(domain) }
        return Issued(record: updated, clientAPIKey: key)
    }

    /// The record of `domain` when `key` is its current client API key, else nil.
    /// Used by the tunnel hub to authenticate a client's hello.
    public func verify(domain: DomainName, key: ClientAPIKey) async throws(AdministrationError) -> DomainRecord? {
        guard let record = try await find(domain), record.keyHash.matches(key) else { return nil }
        return record
    }

    private func find(_ domain: DomainName) async throws(AdministrationError) -> DomainRecord? {
        do { return try await store.find(domain) } catch { throw AdministrationError(storeError: error) }
    }

    private func parse(_ raw: String, field: String = "domain") throws(AdministrationError) -> DomainName {
        do { return try DomainName(parsing: raw) } catch {
            throw AdministrationError(.invalidDomain, "\(field): \(error.message)")
        }
    }

    /// The audit line of an action the store failed, at warning level and naming the failure
    /// (store messages never carry credentials), so an operator sees why the API answered 503.
    private func auditStoreFailure(_ action: String, _ domain: DomainName, _ error: DomainStoreError) {
        logger.warning("admin action", metadata: [
            "action": "\(action)", "domain": "\(domain)", "outcome": "error", "error": "\(error.code): \(error.message)",
        ])
    }

    private func audit(_ action: String, _ domain: DomainName, outcome: String, extra: Logger.Metadata = [:]) {
        var metadata: Logger.Metadata = ["action": "\(action)", "domain": "\(domain)", "outcome": "\(outcome)"]
        metadata.merge(extra) { current, _ in current }
        logger.info("admin action", metadata: metadata)
    }
}
