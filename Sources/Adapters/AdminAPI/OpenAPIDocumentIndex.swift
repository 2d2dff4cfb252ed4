import Foundation

/// What the admin API needs to look up in its own OpenAPI document at run time: the fields each
/// operation's request body accepts and its integer query parameters (to name the culprit in a
/// 400 when the generated decoder cannot). Read from the embedded
/// document, so it cannot drift from it.
struct OpenAPIDocumentIndex: Sendable {
    private let fieldsByOperation: [String: Set<String>]
    private let integerQueryParameters: [String: [String]]
    /// The upper-case methods each path (relative to the server URL) declares.
    let methodsByPath: [String: Set<String>]

    init(json: String) {
        var fields: [String: Set<String>] = [:]
        var integers: [String: [String]] = [:]
        var methods: [String: Set<String>] = [:]
        let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        let components = root["components"] as? [String: Any] ?? [:]
        let schemas = (components["schemas"] as? [String: Any]) ?? [:]
        let sharedParameters = (components["parameters"] as? [String: Any]) ?? [:]
        for case let (path, item as [String: Any]) in (root["paths"] as? [String: Any]) ?? [:] {
            for case let (method, operation as [String: Any]) in item {
                if operation["operationId"] != nil { methods[path, default: []].insert(method.uppercased()) }
                if let id = operation["operationId"] as? String {
                    for case var parameter as [String: Any] in (operation["parameters"] as? [Any]) ?? [] {
                        if let reference = parameter["$ref"] as? String {
                            parameter = sharedParameters[String(reference.split(separator: "/").last ?? "")] as? [String: Any] ?? [:]
                        }
                        if (parameter["schema"] as? [String: Any])?["type"] as? String == "integer", let name = parameter["name"] as? String {
                            integers[id, default: []].append(name)
                        }
                    }
                }
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
        self.integerQueryParameters = integers
        self.methodsByPath = methods
    }

    /// The query parameters of `operationID` the document declares as integers.
    func integerQueryParameters(of operationID: String) -> [String] { integerQueryParameters[operationID] ?? [] }

    /// The JSON fields the request body of `operationID` may carry.
    func requestFields(of operationID: String) -> Set<String> { fieldsByOperation[operationID] ?? [] }
}
