using System.ComponentModel.DataAnnotations;

namespace Lightfast.Cloud.Servers.Connections;

/// <summary>How MCP connections are opened and closed. Bound from <c>Lightfast:Connections</c>.</summary>
public sealed class McpConnectionOptions
{
    public const string SectionName = "Lightfast:Connections";

    /// <summary>
    /// The MCP protocol version the client asks for. Pinned: left to the SDK, it first tries a newer version in
    /// which <c>ping</c> and <c>tools/list_changed</c> do not work the same way (see shared/NOTES-MCP-AI.md).
    /// </summary>
    [Required]
    public string ProtocolVersion { get; set; } = "2025-11-25";

    /// <summary>How long connecting and initializing a server may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stdio server gets to exit after its input closes before it is killed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a health ping may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many lines of a stdio server's standard error are kept for error reports.</summary>
    [Range(0, 1000)]
    public int StandardErrorTailLines { get; set; } = 20;
}
