using System.Text;
using System.Text.Json;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.AI;

namespace Lightfast.Cloud.Conversations;

/// <summary>Turns the persisted history into Microsoft.Extensions.AI chat messages, and tool results into text.</summary>
public static class ConversationMessages
{
    public static List<ChatMessage> Build(ConversationSettings settings, IEnumerable<ConversationTurn> turns)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(turns);
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(settings.SystemPrompt))
        {
            messages.Add(new ChatMessage(ChatRole.System, settings.SystemPrompt));
        }

        foreach (var turn in turns)
        {
            messages.Add(new ChatMessage(ChatRole.User, turn.Message));
            foreach (var step in turn.Steps)
            {
                AddStep(messages, step);
            }
        }

        return messages;
    }

    public static void AddStep(List<ChatMessage> messages, ConversationStep step)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(step);
        var assistant = new List<AIContent>();
        if (!string.IsNullOrEmpty(step.Text))
        {
            assistant.Add(new TextContent(step.Text));
        }

        assistant.AddRange(step.ToolCalls.Select(call => new FunctionCallContent(call.Id, call.Name, ParseArguments(call.Arguments))));
        if (assistant.Count > 0)
        {
            messages.Add(new ChatMessage(ChatRole.Assistant, assistant));
        }

        if (step.ToolCalls.Count > 0)
        {
            messages.Add(new ChatMessage(ChatRole.Tool, [.. step.ToolCalls.Select(call => new FunctionResultContent(call.Id, ResultText(call)))]));
        }
    }

    /// <summary>What the model is told a tool call returned: its text, its structured output, or the error.</summary>
    public static string ResultText(ToolCallRecord call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.Error is { } error)
        {
            return $"Error {error.Code}: {error.Message}";
        }

        var result = call.Result;
        if (result is null)
        {
            return "The tool returned nothing.";
        }

        var text = new StringBuilder();
        if (result.IsError)
        {
            text.Append("The tool reported an error: ");
        }

        foreach (var content in result.Content)
        {
            if (text.Length > 0 && !result.IsError)
            {
                text.Append('\n');
            }

            text.Append(content.Kind switch
            {
                ToolContentKind.Text => content.Text,
                ToolContentKind.Resource when content.Text is not null => content.Text,
                ToolContentKind.ResourceLink => $"[resource {content.Name}: {content.Uri}]",
                _ => $"[{content.Kind.ToString().ToLowerInvariant()} {content.MimeType} ({content.Data?.Length ?? 0} base64 characters)]",
            });
        }

        if (result.Content.Count == 0 && result.StructuredContent is not null)
        {
            text.Append(result.StructuredContent);
        }

        return text.ToString();
    }

    public static Dictionary<string, object?> ParseArguments(string json)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json);
        if (document.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                arguments[property.Name] = property.Value.Clone();
            }
        }

        return arguments;
    }

    private static readonly JsonSerializerOptions CompactJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    public static string SerializeArguments(IDictionary<string, object?>? arguments) =>
        JsonSerializer.Serialize(arguments ?? new Dictionary<string, object?>(), CompactJson);
}
