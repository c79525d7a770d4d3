/// Invalid meta-training configuration or state.
public enum MetaTrainingError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalid(String, String)
    case state(String)
    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .state(let message): "training state: \(message)"
        }
    }
}
