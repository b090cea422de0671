using System.Text.Json.Serialization;
using Lightfast.Cloud.Servers;

namespace Lightfast.Cloud.Tools;

/// <summary>A tool as one MCP server describes it. Schemas are kept as JSON text.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ToolDescriptor")]
public sealed record ToolDescriptor
{
    [Id(0)]
    public required string Name { get; init; }

    [Id(1)]
    public string? Title { get; init; }

    [Id(2)]
    public string? Description { get; init; }

    /// <summary>The JSON schema of the tool's arguments.</summary>
    [Id(3)]
    [JsonConverter(typeof(RawJsonConverter))]
    public required string InputSchema { get; init; }

    /// <summary>The JSON schema of the tool's structured output, when it declares one.</summary>
    [Id(4)]
    [JsonConverter(typeof(RawJsonConverter))]
    public string? OutputSchema { get; init; }

    [Id(5)]
    public bool? ReadOnlyHint { get; init; }

    [Id(6)]
    public bool? DestructiveHint { get; init; }
}

/// <summary>
/// A tool in the aggregated catalog: reachable by <see cref="QualifiedName"/> (<c>server__tool</c>, within
/// <c>^[a-zA-Z0-9_-]{1,64}$</c>), which maps back to <see cref="Server"/> and the original <see cref="Tool"/> name.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.CatalogTool")]
public sealed record CatalogTool
{
    [Id(0)]
    public required string QualifiedName { get; init; }

    [Id(1)]
    public required string Server { get; init; }

    [Id(2)]
    public required string Tool { get; init; }

    [Id(3)]
    public string? Title { get; init; }

    [Id(4)]
    public string? Description { get; init; }

    [Id(5)]
    [JsonConverter(typeof(RawJsonConverter))]
    public required string InputSchema { get; init; }

    [Id(6)]
    [JsonConverter(typeof(RawJsonConverter))]
    public string? OutputSchema { get; init; }
}

/// <summary>The tools of every running server, and the servers whose tools could not be listed.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ToolCatalog")]
public sealed record ToolCatalog(
    [property: Id(0)] IReadOnlyList<CatalogTool> Tools,
    [property: Id(1)] IReadOnlyList<ServerOperationResult> Unavailable);

/// <summary>Kinds of content a tool result can hold.</summary>
[GenerateSerializer]
[Alias("lightfast.ToolContentKind")]
public enum ToolContentKind
{
    Text = 0,
    Image = 1,
    Audio = 2,
    Resource = 3,
    ResourceLink = 4,
}

/// <summary>One block of a tool's result content.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ToolContent")]
public sealed record ToolContent
{
    [Id(0)]
    public ToolContentKind Kind { get; init; }

    /// <summary>Text content, or the text of an embedded text resource.</summary>
    [Id(1)]
    public string? Text { get; init; }

    /// <summary>Base64 data of an image, audio clip or embedded binary resource.</summary>
    [Id(2)]
    public string? Data { get; init; }

    [Id(3)]
    public string? MimeType { get; init; }

    /// <summary>The URI of an embedded resource or a resource link.</summary>
    [Id(4)]
    public string? Uri { get; init; }

    /// <summary>The name of a resource link.</summary>
    [Id(5)]
    public string? Name { get; init; }
}

/// <summary>The result of a tool call. A tool's own failure is <see cref="IsError"/> = true, not an exception.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ToolCallResult")]
public sealed record ToolCallResult
{
    [Id(0)]
    public required string Server { get; init; }

    [Id(1)]
    public required string Tool { get; init; }

    [Id(2)]
    public bool IsError { get; init; }

    [Id(3)]
    public IReadOnlyList<ToolContent> Content { get; init; } = [];

    /// <summary>The tool's structured output as JSON text, when it returned one.</summary>
    [Id(4)]
    [JsonConverter(typeof(RawJsonConverter))]
    public string? StructuredContent { get; init; }

    [Id(5)]
    public double DurationMs { get; init; }
}
