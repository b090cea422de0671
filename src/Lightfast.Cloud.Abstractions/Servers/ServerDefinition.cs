namespace Lightfast.Cloud.Servers;

/// <summary>
/// The configuration of one MCP server: how to reach it and how to call it. Validated by the registry
/// before it is stored. <see cref="Env"/> and <see cref="Headers"/> may hold secrets: they are written,
/// never returned (see <see cref="ServerInfo"/>) and never logged.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ServerDefinition")]
public sealed record ServerDefinition
{
    /// <summary>Default time a single tool call may take before it fails with <c>TOOL_TIMEOUT</c>.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Unique name; the key of the server grain. Lower-case letters, digits and '-'.</summary>
    [Id(0)]
    public required string Name { get; init; }

    [Id(1)]
    public string? Description { get; init; }

    [Id(2)]
    public McpTransportKind Transport { get; init; }

    /// <summary>stdio: the program to start.</summary>
    [Id(3)]
    public string? Command { get; init; }

    /// <summary>stdio: the program's arguments.</summary>
    [Id(4)]
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>stdio: environment variables for the process (secret: write-only).</summary>
    [Id(5)]
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>stdio: the working directory of the process.</summary>
    [Id(6)]
    public string? WorkingDirectory { get; init; }

    /// <summary>sse / streamable-http: the server's endpoint.</summary>
    [Id(7)]
    public Uri? Url { get; init; }

    /// <summary>sse / streamable-http: extra request headers, such as an authorization header (secret: write-only).</summary>
    [Id(8)]
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>How long one tool call may take.</summary>
    [Id(9)]
    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    /// <summary>Whether the server should run: enabled servers are started when registered or loaded.</summary>
    [Id(10)]
    public bool Enabled { get; init; } = true;

    [Id(11)]
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Retries, circuit breaker, restarts and health checks of this server.</summary>
    [Id(12)]
    public ServerResilience Resilience { get; init; } = ServerResilience.Default;
}

/// <summary>How the MCP connection to a server is made.</summary>
[GenerateSerializer]
[Alias("lightfast.McpTransportKind")]
public enum McpTransportKind
{
    /// <summary>A child process speaking MCP over its standard input and output.</summary>
    Stdio = 0,

    /// <summary>The legacy HTTP + Server-Sent Events transport (protocol 2024-11-05).</summary>
    Sse = 1,

    /// <summary>The streamable HTTP transport.</summary>
    StreamableHttp = 2,
}
