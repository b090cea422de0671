using Microsoft.Extensions.Logging;

namespace Lightfast.Cloud.Conversations;

/// <summary>Log events of conversations. Never log message text, tool arguments or keys.</summary>
internal static partial class ConversationsLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Conversation {Conversation} turn {Turn} started with {Provider}/{Model} and {ToolCount} tools")]
    public static partial void TurnStarted(ILogger logger, string conversation, string turn, string provider, string model, int toolCount);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Conversation {Conversation} turn {Turn} ended {Status} after {Steps} steps")]
    public static partial void TurnEnded(ILogger logger, string conversation, string turn, TurnStatus status, int steps);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Conversation {Conversation} turn {Turn} failed: {Code}")]
    public static partial void TurnFailed(ILogger logger, Exception exception, string conversation, string turn, string code);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Conversation {Conversation}: tool call {Tool} failed with {Code}; the model sees the error")]
    public static partial void ToolCallFailed(ILogger logger, string conversation, string tool, string code);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Conversation {Conversation}: turn {Turn} was interrupted (its silo stopped) and is marked failed")]
    public static partial void TurnInterrupted(ILogger logger, string conversation, string turn);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Conversation {Conversation}: its interrupted turns are shown failed but cannot be stored: {Limit}")]
    public static partial void InterruptedTurnsNotStored(ILogger logger, string conversation, string limit);
}
