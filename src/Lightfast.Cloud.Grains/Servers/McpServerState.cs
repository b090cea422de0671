using Lightfast.Cloud.Tools;

namespace Lightfast.Cloud.Servers;

/// <summary>What a server grain persists: its definition, what the operator wants, and the last tool catalog.</summary>
[GenerateSerializer]
[Alias("lightfast.McpServerState")]
public sealed class McpServerState
{
    [Id(0)]
    public ServerDefinition? Definition { get; set; }

    [Id(1)]
    public DesiredState DesiredState { get; set; }

    [Id(2)]
    public List<ToolDescriptor> Tools { get; set; } = [];
}
