import Foundation

/// What the admin API needs to look up in its own OpenAPI document at run time: the fields each
/// operation's request body accepts (to name an unknown field in a 400). Read from the embedded
/// document, so it cannot drift from it.
struct OpenAPIDocumentIndex: Sendable {
    private let fieldsByOperation: [String: Set<String>]

    init(json: String) {
        var fields: [String: Set<String>] = [:]
        let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        let schemas = ((root["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
        for case let (_, item as [String: Any]) in (root["paths"] as? [String: Any]) ?? [:] {
            for case let (_, operation as [String: Any]) in item {
                guard let id = operation["operationId"] as? String,
                      let body = operation["requestBody"] as? [String: Any],
                      let content = (body["content"] as? [String: Any])?["application/json"] as? [String: Any],
                      let reference = (content["schema"] as? [String: Any])?["$ref"] as? String,
                      let schema = schemas[String(reference.split(separator: "/").last ?? "")] as? [String: Any],
                      let properties = schema["properties"] as? [String: Any]
                else { continue }
                fields[id] = Set(properties.keys)
            }
        }
        self.fieldsByOperation = fields
    }

    /// The JSON fields the request body of `operationID` may carry.
    func requestFields(of operationID: String) -> Set<String> { fieldsByOperation[operationID] ?? [] }
}
