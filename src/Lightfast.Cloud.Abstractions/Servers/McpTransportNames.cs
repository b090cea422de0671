namespace Lightfast.Cloud.Servers;

/// <summary>The names of the transports as they appear in configuration files and the API.</summary>
public static class McpTransportNames
{
    public const string Stdio = "stdio";
    public const string Sse = "sse";
    public const string StreamableHttp = "streamable-http";

    /// <summary>Every accepted name, for error messages.</summary>
    public static readonly IReadOnlyList<string> All = [Stdio, Sse, StreamableHttp];

    public static string ToName(McpTransportKind kind) => kind switch
    {
        McpTransportKind.Stdio => Stdio,
        McpTransportKind.Sse => Sse,
        McpTransportKind.StreamableHttp => StreamableHttp,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown transport."),
    };

    public static bool TryParse(string? name, out McpTransportKind kind)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case Stdio:
                kind = McpTransportKind.Stdio;
                return true;
            case Sse:
                kind = McpTransportKind.Sse;
                return true;
            case StreamableHttp or "streamablehttp" or "http":
                kind = McpTransportKind.StreamableHttp;
                return true;
            default:
                kind = default;
                return false;
        }
    }
}
