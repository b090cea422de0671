using System.Text.Json.Serialization;
using Lightfast.Cloud.Tools;

namespace Lightfast.Cloud.Conversations;

/// <summary>How a conversation talks to its model and which tools it may use.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ConversationSettings")]
public sealed record ConversationSettings
{
    public const int DefaultMaxSteps = 8;
    public const int MaxMaxSteps = 50;

    /// <summary>A configured provider's name; null for the configured default.</summary>
    [Id(0)]
    public string? Provider { get; init; }

    /// <summary>The model (or Azure deployment); null for the provider's configured model.</summary>
    [Id(1)]
    public string? Model { get; init; }

    [Id(2)]
    public string? SystemPrompt { get; init; }

    /// <summary>Model responses per turn; a turn that still asks for tools after this many ends <c>max_steps_reached</c>.</summary>
    [Id(3)]
    public int MaxSteps { get; init; } = DefaultMaxSteps;

    /// <summary>When not empty, only the tools of these servers are offered.</summary>
    [Id(4)]
    public IReadOnlyList<string> AllowedServers { get; init; } = [];

    /// <summary>When not empty, only these tools (qualified names) are offered.</summary>
    [Id(5)]
    public IReadOnlyList<string> AllowedTools { get; init; } = [];
}

[GenerateSerializer]
[Alias("lightfast.TurnStatus")]
public enum TurnStatus
{
    Running = 0,
    Completed = 1,
    MaxStepsReached = 2,
    Failed = 3,
    Cancelled = 4,
}

[GenerateSerializer, Immutable]
[Alias("lightfast.TokenUsage")]
public sealed record TokenUsage(
    [property: Id(0)] long InputTokens,
    [property: Id(1)] long OutputTokens,
    [property: Id(2)] long TotalTokens)
{
    public static readonly TokenUsage Zero = new(0, 0, 0);

    public static TokenUsage Sum(IEnumerable<TokenUsage> usages) => usages.Aggregate(Zero, (total, usage) => total.Add(usage));

    public TokenUsage Add(TokenUsage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(InputTokens + other.InputTokens, OutputTokens + other.OutputTokens, TotalTokens + other.TotalTokens);
    }
}

/// <summary>An error recorded in a turn, step or tool call.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.TurnError")]
public sealed record TurnError([property: Id(0)] string Code, [property: Id(1)] string Message);

/// <summary>One tool call the model asked for, and what came of it.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ToolCallRecord")]
public sealed record ToolCallRecord
{
    /// <summary>The model's id for the call.</summary>
    [Id(0)]
    public required string Id { get; init; }

    /// <summary>The name the model used: the qualified name (<c>server__tool</c>).</summary>
    [Id(1)]
    public required string Name { get; init; }

    [Id(2)]
    public string? Server { get; init; }

    [Id(3)]
    public string? Tool { get; init; }

    [Id(4)]
    [JsonConverter(typeof(RawJsonConverter))]
    public required string Arguments { get; init; }

    [Id(5)]
    public ToolCallResult? Result { get; init; }

    /// <summary>Why the call failed (the model saw this as the tool's answer).</summary>
    [Id(6)]
    public TurnError? Error { get; init; }

    [Id(7)]
    public double DurationMs { get; init; }
}

/// <summary>One model response, the tool calls it asked for and their results.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ConversationStep")]
public sealed record ConversationStep
{
    [Id(0)]
    public int Index { get; init; }

    [Id(1)]
    public DateTimeOffset StartedAt { get; init; }

    [Id(2)]
    public double DurationMs { get; init; }

    /// <summary>The text of the model's response in this step.</summary>
    [Id(3)]
    public string? Text { get; init; }

    [Id(4)]
    public IReadOnlyList<ToolCallRecord> ToolCalls { get; init; } = [];

    [Id(5)]
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;

    [Id(6)]
    public string? FinishReason { get; init; }
}

/// <summary>A user message and everything the model did to answer it.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ConversationTurn")]
public sealed record ConversationTurn
{
    [Id(0)]
    public required string Id { get; init; }

    [Id(1)]
    public required string Message { get; init; }

    [Id(2)]
    public DateTimeOffset StartedAt { get; init; }

    [Id(3)]
    public DateTimeOffset? CompletedAt { get; init; }

    [Id(4)]
    public TurnStatus Status { get; init; }

    [Id(5)]
    public IReadOnlyList<ConversationStep> Steps { get; init; } = [];

    /// <summary>The model's final answer (the text of the last step).</summary>
    [Id(6)]
    public string? FinalText { get; init; }

    [Id(7)]
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;

    [Id(8)]
    public TurnError? Error { get; init; }
}

/// <summary>A conversation as the API shows it: settings and every turn with its steps.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ConversationInfo")]
public sealed record ConversationInfo
{
    [Id(0)]
    public required string Id { get; init; }

    [Id(1)]
    public required ConversationSettings Settings { get; init; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; init; }

    [Id(3)]
    public bool Busy { get; init; }

    [Id(4)]
    public IReadOnlyList<ConversationTurn> Turns { get; init; } = [];

    [Id(5)]
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;
}

/// <summary>What a streamed turn reports, in order.</summary>
[GenerateSerializer]
[Alias("lightfast.TurnEventType")]
public enum TurnEventType
{
    StepStarted = 0,
    TextDelta = 1,
    ToolCall = 2,
    ToolResult = 3,
    StepCompleted = 4,
    TurnCompleted = 5,
    Error = 6,
}

/// <summary>One event of a streamed turn.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.TurnEvent")]
public sealed record TurnEvent
{
    [Id(0)]
    public TurnEventType Type { get; init; }

    [Id(1)]
    public int? Step { get; init; }

    /// <summary><see cref="TurnEventType.TextDelta"/>: the next piece of text.</summary>
    [Id(2)]
    public string? Text { get; init; }

    /// <summary><see cref="TurnEventType.ToolCall"/> and <see cref="TurnEventType.ToolResult"/>.</summary>
    [Id(3)]
    public ToolCallRecord? ToolCall { get; init; }

    /// <summary><see cref="TurnEventType.StepCompleted"/>.</summary>
    [Id(4)]
    public ConversationStep? StepRecord { get; init; }

    /// <summary><see cref="TurnEventType.TurnCompleted"/>: the whole turn.</summary>
    [Id(5)]
    public ConversationTurn? Turn { get; init; }

    /// <summary><see cref="TurnEventType.Error"/>.</summary>
    [Id(6)]
    public TurnError? Error { get; init; }

    /// <summary>The event name used on the wire (Server-Sent Events).</summary>
    public string Name => Type switch
    {
        TurnEventType.StepStarted => "step_started",
        TurnEventType.TextDelta => "text_delta",
        TurnEventType.ToolCall => "tool_call",
        TurnEventType.ToolResult => "tool_result",
        TurnEventType.StepCompleted => "step_completed",
        TurnEventType.TurnCompleted => "turn_completed",
        _ => "error",
    };
}
