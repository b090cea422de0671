using Lightfast.Cloud.Servers;

namespace Lightfast.Cloud.Errors;

/// <summary>
/// The root of every error Lightfast Cloud raises on purpose. It carries a stable <see cref="Code"/>, a
/// <see cref="Category"/> the gateway maps to an HTTP status, and optional details (never secrets).
/// It is serializable, so it crosses grain calls with its code intact.
/// </summary>
[GenerateSerializer]
[Alias("lightfast.LightfastException")]
public class LightfastException : Exception
{
    [NonSerialized]
    private readonly Exception? _cause;

    public LightfastException(string code, ErrorCategory category, string message, Exception? innerException = null)
        : base(message, innerException as LightfastException)
    {
        Code = code;
        Category = category;
        if (innerException is not null and not LightfastException)
        {
            // Only our own exceptions cross a grain boundary as inner exceptions: an SDK's exception type has no
            // Orleans codec. Its type and message travel as a detail; the exception itself stays here for logs.
            _cause = innerException;
            Details["cause"] = $"{innerException.GetType().Name}: {innerException.Message}";
        }
    }

    public LightfastException()
        : this(ErrorCodes.ConfigurationInvalid, ErrorCategory.Configuration, "Unspecified error.")
    {
    }

    public LightfastException(string message)
        : this(ErrorCodes.ConfigurationInvalid, ErrorCategory.Configuration, message)
    {
    }

    public LightfastException(string message, Exception innerException)
        : this(ErrorCodes.ConfigurationInvalid, ErrorCategory.Configuration, message, innerException)
    {
    }

    /// <summary>The stable error code, one of <see cref="ErrorCodes"/>.</summary>
    [Id(0)]
    public string Code { get; private set; }

    /// <summary>What kind of failure this is.</summary>
    [Id(1)]
    public ErrorCategory Category { get; private set; }

    /// <summary>Extra facts about the error for the caller (a server name, a tool name, an exit code).</summary>
    [Id(2)]
    public Dictionary<string, string> Details { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The underlying exception when it is not one of ours; kept in this process only, never serialized.</summary>
    public Exception? Cause => _cause;

    /// <summary>Includes <see cref="Cause"/>, so that logs show where the failure came from.</summary>
    public override string ToString() => Cause is null ? base.ToString() : $"{base.ToString()}{Environment.NewLine} ---> (cause) {Cause}";

    /// <summary>Adds a detail and returns this exception, for fluent construction.</summary>
    public LightfastException WithDetail(string key, string? value)
    {
        if (value is not null)
        {
            Details[key] = value;
        }

        return this;
    }

    /// <summary>The detail that tells a client when to try again (whole seconds); the gateway sends it as <c>Retry-After</c>.</summary>
    public const string RetryAfterDetail = "retryAfterSeconds";

    /// <summary>When trying again makes sense, if the error says so.</summary>
    public TimeSpan? RetryAfter =>
        Details.TryGetValue(RetryAfterDetail, out var value) && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;

    /// <summary>Records when trying again makes sense, rounded up to whole seconds (at least one).</summary>
    public LightfastException WithRetryAfter(TimeSpan retryAfter) =>
        WithDetail(RetryAfterDetail, RetryAfterSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A wait in whole seconds, rounded up, at least one: what <c>Retry-After</c> can say.</summary>
    public static int RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
}

/// <summary>Configuration the host was given is wrong (a servers file, options).</summary>
[GenerateSerializer]
[Alias("lightfast.ConfigurationException")]
public sealed class ConfigurationException : LightfastException
{
    public ConfigurationException(string message, IReadOnlyList<ValidationError> errors)
        : base(ErrorCodes.ConfigurationInvalid, ErrorCategory.Configuration, message)
    {
        Errors = [.. errors];
    }

    /// <summary>Every problem found, each with its path.</summary>
    [Id(0)]
    public List<ValidationError> Errors { get; private set; }
}

/// <summary>Input from a caller is invalid; <see cref="Errors"/> lists every problem with its path.</summary>
[GenerateSerializer]
[Alias("lightfast.ValidationException")]
public sealed class ValidationException : LightfastException
{
    public ValidationException(IReadOnlyList<ValidationError> errors)
        : base(ErrorCodes.ValidationFailed, ErrorCategory.Validation, Describe(errors))
    {
        Errors = [.. errors];
    }

    public ValidationException(string path, string message)
        : this([new ValidationError(path, message)])
    {
    }

    /// <summary>Every problem found, each with its path.</summary>
    [Id(0)]
    public List<ValidationError> Errors { get; private set; }

    private static string Describe(IReadOnlyList<ValidationError> errors) => errors.Count switch
    {
        0 => "The request is invalid.",
        1 => $"The request is invalid: {errors[0]}",
        _ => $"The request is invalid ({errors.Count} problems): {string.Join("; ", errors)}",
    };
}

/// <summary>A named thing (server, tool) does not exist.</summary>
[GenerateSerializer]
[Alias("lightfast.NotFoundException")]
public sealed class NotFoundException : LightfastException
{
    public NotFoundException(string code, string message)
        : base(code, ErrorCategory.NotFound, message)
    {
    }

    public static NotFoundException Server(string name) =>
        (NotFoundException)new NotFoundException(ErrorCodes.ServerNotFound, $"No MCP server named '{name}' is registered.")
            .WithDetail("server", name);

    public static NotFoundException Conversation(string id) =>
        (NotFoundException)new NotFoundException(ErrorCodes.ConversationNotFound, $"No conversation '{id}' exists.")
            .WithDetail("conversation", id);

    public static NotFoundException Tool(string server, string tool) =>
        (NotFoundException)new NotFoundException(ErrorCodes.ToolNotFound, $"MCP server '{server}' has no tool named '{tool}'.")
            .WithDetail("server", server)
            .WithDetail("tool", tool);
}

/// <summary>The request conflicts with the current state (a name already taken, a server busy changing state).</summary>
[GenerateSerializer]
[Alias("lightfast.ConflictException")]
public sealed class ConflictException : LightfastException
{
    public ConflictException(string code, string message)
        : base(code, ErrorCategory.Conflict, message)
    {
    }
}

/// <summary>An MCP server could not be started, reached or used.</summary>
[GenerateSerializer]
[Alias("lightfast.ServerException")]
public sealed class ServerException : LightfastException
{
    public ServerException(string code, ErrorCategory category, string server, string message, Exception? innerException = null)
        : base(code, category, message, innerException)
    {
        WithDetail("server", server);
    }

    public static ServerException NotRunning(string server, ServerStatus status) =>
        new(ErrorCodes.ServerNotRunning, ErrorCategory.Unavailable, server, $"MCP server '{server}' is not running (state {status}); start it first.");

    /// <summary>The server's circuit is open: calls fail at once until <paramref name="retryAfter"/> has passed.</summary>
    public static ServerException CircuitOpen(string server, TimeSpan retryAfter) =>
        (ServerException)new ServerException(
            ErrorCodes.ServerUnavailable,
            ErrorCategory.Unavailable,
            server,
            $"MCP server '{server}' is unavailable: too many recent calls failed, so calls are refused for now (circuit open). Try again in {RetryAfterSeconds(retryAfter)} s.")
            .WithRetryAfter(retryAfter);
}

/// <summary>A tool call failed: invalid arguments, a timeout, or a protocol error from the server.</summary>
[GenerateSerializer]
[Alias("lightfast.ToolExecutionException")]
public sealed class ToolExecutionException : LightfastException
{
    public ToolExecutionException(string code, ErrorCategory category, string server, string tool, string message, Exception? innerException = null)
        : base(code, category, message, innerException)
    {
        WithDetail("server", server);
        WithDetail("tool", tool);
    }
}

/// <summary>The AI provider of a conversation is not configured, refused the request or failed.</summary>
[GenerateSerializer]
[Alias("lightfast.AiProviderException")]
public sealed class AiProviderException : LightfastException
{
    public AiProviderException(string code, ErrorCategory category, string? provider, string message, Exception? innerException = null)
        : base(code, category, message, innerException)
    {
        WithDetail("provider", provider);
    }
}
