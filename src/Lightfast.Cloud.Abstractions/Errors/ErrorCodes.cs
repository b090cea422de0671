namespace Lightfast.Cloud.Errors;

/// <summary>
/// The stable error codes of Lightfast Cloud. They are part of the public contract: clients match on them,
/// so a code is never renamed or reused for another meaning.
/// </summary>
public static class ErrorCodes
{
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string ConfigurationInvalid = "CONFIGURATION_INVALID";
    public const string ServerNotFound = "SERVER_NOT_FOUND";
    public const string ServerAlreadyExists = "SERVER_ALREADY_EXISTS";
    public const string ServerNotRunning = "SERVER_NOT_RUNNING";
    public const string ServerBusy = "SERVER_BUSY";
    public const string ServerStartFailed = "SERVER_START_FAILED";
    public const string ServerCommandNotFound = "SERVER_COMMAND_NOT_FOUND";
    public const string ServerConnectionFailed = "SERVER_CONNECTION_FAILED";
    public const string ServerUnavailable = "SERVER_UNAVAILABLE";
    public const string ServerProcessExited = "SERVER_PROCESS_EXITED";
    public const string ToolNotFound = "TOOL_NOT_FOUND";
    public const string ToolInvalidArguments = "TOOL_INVALID_ARGUMENTS";
    public const string ToolTimeout = "TOOL_TIMEOUT";
    public const string ToolCallFailed = "TOOL_CALL_FAILED";
    public const string OperationCancelled = "OPERATION_CANCELLED";
    public const string ConversationNotFound = "CONVERSATION_NOT_FOUND";
    public const string ConversationAlreadyExists = "CONVERSATION_ALREADY_EXISTS";
    public const string ConversationBusy = "CONVERSATION_BUSY";
    public const string TurnInterrupted = "TURN_INTERRUPTED";
    public const string AiProviderNotConfigured = "AI_PROVIDER_NOT_CONFIGURED";
    public const string AiProviderError = "AI_PROVIDER_ERROR";
    public const string AiProviderRateLimited = "AI_PROVIDER_RATE_LIMITED";
    public const string AiProviderTimeout = "AI_PROVIDER_TIMEOUT";
    public const string RequestMalformed = "REQUEST_MALFORMED";
    public const string RequestTooLarge = "REQUEST_TOO_LARGE";
    public const string RouteNotFound = "ROUTE_NOT_FOUND";
    public const string ClusterUnavailable = "CLUSTER_UNAVAILABLE";
    public const string StateTooLarge = "STATE_TOO_LARGE";
    public const string InternalError = "INTERNAL_ERROR";
}
