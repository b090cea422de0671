using System.Text;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Lightfast.Cloud.Tools;

/// <summary>
/// Maps MCP SDK types to Lightfast's own serializable records: SDK types never cross a grain boundary.
/// </summary>
public static class ToolMapper
{
    public static ToolDescriptor ToDescriptor(Tool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new ToolDescriptor
        {
            Name = tool.Name,
            Title = tool.Title ?? tool.Annotations?.Title,
            Description = tool.Description,
            InputSchema = tool.InputSchema.ValueKind == JsonValueKind.Undefined ? "{\"type\":\"object\"}" : tool.InputSchema.GetRawText(),
            OutputSchema = tool.OutputSchema is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } output ? output.GetRawText() : null,
            ReadOnlyHint = tool.Annotations?.ReadOnlyHint,
            DestructiveHint = tool.Annotations?.DestructiveHint,
        };
    }

    public static ToolDescriptor ToDescriptor(McpClientTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return ToDescriptor(tool.ProtocolTool);
    }

    public static ToolCallResult ToResult(string server, string tool, CallToolResult result, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new ToolCallResult
        {
            Server = server,
            Tool = tool,
            IsError = result.IsError == true,
            Content = [.. result.Content.Select(ToContent)],
            StructuredContent = result.StructuredContent is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } structured ? structured.GetRawText() : null,
            DurationMs = duration.TotalMilliseconds,
        };
    }

    public static ToolContent ToContent(ContentBlock block) => block switch
    {
        TextContentBlock text => new ToolContent { Kind = ToolContentKind.Text, Text = text.Text },
        ImageContentBlock image => new ToolContent { Kind = ToolContentKind.Image, Data = Base64(image.Data), MimeType = image.MimeType },
        AudioContentBlock audio => new ToolContent { Kind = ToolContentKind.Audio, Data = Base64(audio.Data), MimeType = audio.MimeType },
        EmbeddedResourceBlock { Resource: TextResourceContents text } => new ToolContent
        {
            Kind = ToolContentKind.Resource,
            Uri = text.Uri,
            MimeType = text.MimeType,
            Text = text.Text,
        },
        EmbeddedResourceBlock { Resource: BlobResourceContents blob } => new ToolContent
        {
            Kind = ToolContentKind.Resource,
            Uri = blob.Uri,
            MimeType = blob.MimeType,
            Data = Base64(blob.Blob),
        },
        ResourceLinkBlock link => new ToolContent
        {
            Kind = ToolContentKind.ResourceLink,
            Uri = link.Uri,
            Name = link.Name,
            MimeType = link.MimeType,
            Text = link.Description,
        },
        _ => new ToolContent { Kind = ToolContentKind.Text, Text = JsonSerializer.Serialize(block, ModelContextProtocol.McpJsonUtilities.DefaultOptions) },
    };

    private static string Base64(ReadOnlyMemory<byte> utf8Base64) => Encoding.UTF8.GetString(utf8Base64.Span);
}
