using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Lightfast.Cloud.Conversations.Providers;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Persistence;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lightfast.Cloud.Conversations;

/// <summary>
/// One conversation. A turn runs the agent loop: ask the model (streaming), run the tool calls it asked for
/// concurrently through the server grains that own them, give it their results, and again, up to
/// <see cref="ConversationSettings.MaxSteps"/> model responses. The state is written after every step.
/// Turn methods interleave so that a second message sees the running turn and gets <c>CONVERSATION_BUSY</c>.
/// </summary>
public sealed class ConversationGrain(
    [PersistentState("conversation")] IPersistentState<ConversationState> state,
    IChatClientProvider providers,
    IOptions<AiOptions> aiOptions,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain
{
    public const int MaxMessageLength = 32 * 1024;

    private CancellationTokenSource? _running;
    private bool _deleted;

    private string Id => this.GetPrimaryKeyString();

    /// <summary>How storage errors name this grain's state.</summary>
    private string StateName => $"Conversation '{Id}'";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (MarkInterruptedTurns(log: true) == 0)
        {
            return;
        }

        try
        {
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }
        catch (LightfastException ex) when (ex.Code == ErrorCodes.StateTooLarge)
        {
            // A conversation at its storage limit stays readable: the marks live in memory only (storage was read
            // back), and every activation makes them again.
            ConversationsLog.InterruptedTurnsNotStored(logger, Id, ex.Details.GetValueOrDefault("limit") ?? ex.Message);
            MarkInterruptedTurns(log: false);
        }
    }

    /// <summary>A turn still marked running was cut off when its silo stopped: its completed steps are kept, the turn fails.</summary>
    private int MarkInterruptedTurns(bool log)
    {
        var interrupted = state.State.Turns.Select((turn, index) => (turn, index)).Where(t => t.turn.Status == TurnStatus.Running).ToList();
        foreach (var (turn, index) in interrupted)
        {
            if (log)
            {
                ConversationsLog.TurnInterrupted(logger, Id, turn.Id);
            }

            state.State.Turns[index] = turn with
            {
                Status = TurnStatus.Failed,
                CompletedAt = time.GetUtcNow(),
                Error = new TurnError(ErrorCodes.TurnInterrupted, "The turn was interrupted because its silo stopped; completed steps are kept."),
            };
        }

        return interrupted.Count;
    }

    public async Task<ConversationInfo> CreateAsync(ConversationSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (state.State.Settings is not null)
        {
            throw new ConflictException(ErrorCodes.ConversationAlreadyExists, $"Conversation '{Id}' already exists.");
        }

        var errors = new List<ValidationError>();
        if (settings.MaxSteps is < 1 or > ConversationSettings.MaxMaxSteps)
        {
            errors.Add(new ValidationError("maxSteps", $"must be between 1 and {ConversationSettings.MaxMaxSteps}"));
        }

        if (settings.Provider is { } provider && !providers.Providers.Contains(provider, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add(new ValidationError("provider", providers.Providers.Count == 0
                ? $"'{provider}' is not configured (no AI provider is configured)"
                : $"'{provider}' is not configured (configured: {string.Join(", ", providers.Providers)})"));
        }

        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }

        state.State = new ConversationState { Settings = settings, CreatedAt = time.GetUtcNow() };
        await state.WriteOrRejectAsync(StateName, cancellationToken);
        return Info();
    }

    public async Task<ConversationTurn> SendMessageAsync(string message, CancellationToken cancellationToken = default)
    {
        ConversationTurn? completed = null;
        await RunTurnAsync(message, e =>
        {
            if (e.Type == TurnEventType.TurnCompleted)
            {
                completed = e.Turn;
            }

            return ValueTask.CompletedTask;
        }, cancellationToken);
        return completed!;
    }

    public async IAsyncEnumerable<TurnEvent> StreamMessageAsync(string message, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var events = Channel.CreateUnbounded<TurnEvent>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var turn = RunTurnAsync(message, e => events.Writer.WriteAsync(e, CancellationToken.None), stop.Token);
        _ = CompleteWhenDoneAsync(turn, events.Writer);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None))
            {
                yield return e;
            }
        }
        finally
        {
            // The caller stopped reading (or went away): the turn must not go on without it.
            if (!turn.IsCompleted)
            {
                await stop.CancelAsync();
                await turn.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }
        }
    }

    public Task<ConversationInfo> GetHistoryAsync(CancellationToken cancellationToken = default)
    {
        RequireSettings();
        return Task.FromResult(Info());
    }

    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        RequireSettings();
        _deleted = true;
        if (_running is { } running)
        {
            await running.CancelAsync();
        }

        await state.ClearStateAsync(cancellationToken);
        state.State = new ConversationState();
        DeactivateOnIdle();
    }

    private static async Task CompleteWhenDoneAsync(Task turn, ChannelWriter<TurnEvent> writer)
    {
        try
        {
            await turn;
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            // Handed to the reader: the stream ends with this exception.
            writer.TryComplete(ex);
        }
    }

    private async Task RunTurnAsync(string message, Func<TurnEvent, ValueTask> emit, CancellationToken cancellationToken)
    {
        var settings = RequireSettings();
        if (string.IsNullOrWhiteSpace(message) || message.Length > MaxMessageLength)
        {
            throw new ValidationException("message", $"must be 1 to {MaxMessageLength} characters");
        }

        if (_running is not null)
        {
            throw new ConflictException(ErrorCodes.ConversationBusy, $"Conversation '{Id}' is answering another message; send this one when that turn has ended.");
        }

        using var turnCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _running = turnCancellation;
        try
        {
            var (client, model, provider) = providers.GetClient(settings.Provider, settings.Model);
            var (tools, catalog) = await LoadToolsAsync(settings, turnCancellation.Token);
            await RunTurnCoreAsync(settings, message, client, model, provider, tools, catalog, emit, turnCancellation.Token);
        }
        finally
        {
            _running = null;
        }
    }

    private async Task RunTurnCoreAsync(
        ConversationSettings settings,
        string message,
        IChatClient client,
        string model,
        string provider,
        List<AITool> tools,
        Dictionary<string, CatalogTool> catalog,
        Func<TurnEvent, ValueTask> emit,
        CancellationToken cancellationToken)
    {
        var messages = ConversationMessages.Build(settings, state.State.Turns);
        messages.Add(new ChatMessage(ChatRole.User, message));
        var turn = new ConversationTurn { Id = Guid.NewGuid().ToString("N"), Message = message, StartedAt = time.GetUtcNow(), Status = TurnStatus.Running };
        var turnIndex = state.State.Turns.Count;
        state.State.Turns.Add(turn);
        await PersistAsync(CancellationToken.None);
        ConversationsLog.TurnStarted(logger, Id, turn.Id, provider, model, tools.Count);

        var options = new ChatOptions { ModelId = model, Tools = tools.Count > 0 ? tools : null, AllowMultipleToolCalls = true };
        var steps = new List<ConversationStep>();
        var status = TurnStatus.MaxStepsReached;
        TurnError? error = null;
        try
        {
            for (var index = 1; index <= settings.MaxSteps; index++)
            {
                var step = await RunStepAsync(index, client, provider, messages, options, catalog, emit, cancellationToken);
                var withStep = turn with { Steps = [.. steps, step], Usage = TokenUsage.Sum(steps.Append(step).Select(s => s.Usage)) };
                state.State.Turns[turnIndex] = withStep;
                await PersistAsync(CancellationToken.None); // a step that does not fit is not kept: STATE_TOO_LARGE below
                steps.Add(step);
                turn = withStep;
                ConversationMessages.AddStep(messages, step);
                await emit(new TurnEvent { Type = TurnEventType.StepCompleted, Step = index, StepRecord = step });
                if (step.ToolCalls.Count == 0)
                {
                    status = TurnStatus.Completed;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            status = TurnStatus.Cancelled;
            error = new TurnError(ErrorCodes.OperationCancelled, "The turn was cancelled.");
        }
        catch (LightfastException ex) when (ex is AiProviderException || ex.Code == ErrorCodes.StateTooLarge)
        {
            status = TurnStatus.Failed;
            error = new TurnError(ex.Code, ex is AiProviderException
                ? ex.Message
                : $"{ex.Message} Step {steps.Count + 1} (the model's answer and its tool calls' results) is not in the conversation.");
            ConversationsLog.TurnFailed(logger, ex, Id, turn.Id, ex.Code);
            await emit(new TurnEvent { Type = TurnEventType.Error, Error = error });
            await FinishAsync();
            throw;
        }

        await FinishAsync();
        if (status == TurnStatus.Cancelled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        async Task FinishAsync()
        {
            turn = turn with
            {
                Status = status,
                CompletedAt = time.GetUtcNow(),
                Steps = [.. steps],
                Usage = TokenUsage.Sum(steps.Select(step => step.Usage)),
                FinalText = steps.LastOrDefault()?.Text,
                Error = error ?? (status == TurnStatus.MaxStepsReached
                    ? new TurnError("MAX_STEPS_REACHED", $"The model still asked for tools after {settings.MaxSteps} steps.")
                    : null),
            };
            if (!_deleted)
            {
                state.State.Turns[turnIndex] = turn;
                try
                {
                    await PersistAsync(CancellationToken.None);
                }
                catch (LightfastException ex) when (ex.Code == ErrorCodes.StateTooLarge)
                {
                    // Not even the ended turn fits: storage keeps it running; the next activation shows it failed.
                    DeactivateOnIdle();
                    throw;
                }
            }

            ConversationsLog.TurnEnded(logger, Id, turn.Id, status, steps.Count);
            if (status != TurnStatus.Cancelled)
            {
                await emit(new TurnEvent { Type = TurnEventType.TurnCompleted, Turn = turn });
            }
        }
    }

    private async Task<ConversationStep> RunStepAsync(
        int index,
        IChatClient client,
        string provider,
        List<ChatMessage> messages,
        ChatOptions options,
        Dictionary<string, CatalogTool> catalog,
        Func<TurnEvent, ValueTask> emit,
        CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        await emit(new TurnEvent { Type = TurnEventType.StepStarted, Step = index });

        var updates = new List<ChatResponseUpdate>();
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                updates.Add(update);
                if (!string.IsNullOrEmpty(update.Text))
                {
                    await emit(new TurnEvent { Type = TurnEventType.TextDelta, Step = index, Text = update.Text });
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not LightfastException)
        {
            throw ProviderFailure(provider, ex, cancellationToken);
        }

        var response = updates.ToChatResponse();
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        var pending = calls.Select(call => new ToolCallRecord
        {
            Id = call.CallId,
            Name = call.Name,
            Server = catalog.GetValueOrDefault(call.Name)?.Server,
            Tool = catalog.GetValueOrDefault(call.Name)?.Tool,
            Arguments = ConversationMessages.SerializeArguments(call.Arguments),
        }).ToList();
        foreach (var call in pending)
        {
            await emit(new TurnEvent { Type = TurnEventType.ToolCall, Step = index, ToolCall = call });
        }

        using var gate = new SemaphoreSlim(Math.Max(1, aiOptions.Value.MaxConcurrentToolCalls));
        var results = await Task.WhenAll(pending.Select(async call =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var result = await CallToolAsync(call, cancellationToken);
                await emit(new TurnEvent { Type = TurnEventType.ToolResult, Step = index, ToolCall = result });
                return result;
            }
            finally
            {
                gate.Release();
            }
        }));

        var usage = response.Usage;
        return new ConversationStep
        {
            Index = index,
            StartedAt = startedAt,
            DurationMs = time.GetElapsedTime(started).TotalMilliseconds,
            Text = string.IsNullOrEmpty(response.Text) ? null : response.Text,
            ToolCalls = results,
            Usage = usage is null ? TokenUsage.Zero : new TokenUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0, usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0)),
            FinishReason = response.FinishReason?.Value,
        };
    }

    /// <summary>Calls a tool through the grain of the server that owns it; a failure becomes an error the model sees.</summary>
    private async Task<ToolCallRecord> CallToolAsync(ToolCallRecord call, CancellationToken cancellationToken)
    {
        if (call.Server is null || call.Tool is null)
        {
            return call with { Error = new TurnError(ErrorCodes.ToolNotFound, $"There is no tool named '{call.Name}' in this conversation.") };
        }

        var started = time.GetTimestamp();
        try
        {
            var result = await GrainFactory.GetGrain<IMcpServerGrain>(call.Server).CallToolAsync(call.Tool, call.Arguments, cancellationToken);
            return call with { Result = result, DurationMs = time.GetElapsedTime(started).TotalMilliseconds };
        }
        catch (LightfastException ex)
        {
            ConversationsLog.ToolCallFailed(logger, Id, call.Name, ex.Code);
            return call with { Error = new TurnError(ex.Code, ex.Message), DurationMs = time.GetElapsedTime(started).TotalMilliseconds };
        }
    }

    private async Task<(List<AITool> Tools, Dictionary<string, CatalogTool> Catalog)> LoadToolsAsync(ConversationSettings settings, CancellationToken cancellationToken)
    {
        var catalog = await GrainFactory.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey).GetToolCatalogAsync(cancellationToken);
        var offered = catalog.Tools
            .Where(t => settings.AllowedServers.Count == 0 || settings.AllowedServers.Contains(t.Server, StringComparer.Ordinal))
            .Where(t => settings.AllowedTools.Count == 0 || settings.AllowedTools.Contains(t.QualifiedName, StringComparer.Ordinal))
            .ToDictionary(t => t.QualifiedName, StringComparer.Ordinal);
        var tools = offered.Values
            .Select(t => (AITool)AIFunctionFactory.CreateDeclaration(
                t.QualifiedName,
                t.Description ?? t.Title ?? $"Tool '{t.Tool}' of MCP server '{t.Server}'.",
                JsonDocument.Parse(t.InputSchema).RootElement.Clone()))
            .ToList();
        return (tools, offered);
    }

    private static AiProviderException ProviderFailure(string provider, Exception exception, CancellationToken cancellationToken)
    {
        var status = exception switch
        {
            ClientResultException result => result.Status,
            HttpRequestException http => (int?)http.StatusCode ?? 0,
            _ => StatusFromProperty(exception),
        };
        return status switch
        {
            429 => new AiProviderException(ErrorCodes.AiProviderRateLimited, ErrorCategory.Unavailable, provider, $"AI provider '{provider}' is rate limiting requests (429) and retries did not help: {exception.Message}", exception),
            _ when exception is TimeoutException || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested) =>
                new AiProviderException(ErrorCodes.AiProviderTimeout, ErrorCategory.Timeout, provider, $"AI provider '{provider}' did not answer in time.", exception),
            _ => new AiProviderException(ErrorCodes.AiProviderError, ErrorCategory.Upstream, provider, $"AI provider '{provider}' failed{(status > 0 ? $" with HTTP {status}" : string.Empty)} after retries: {exception.Message}", exception),
        };
    }

    /// <summary>Provider SDKs without a shared exception type expose the HTTP status as a property.</summary>
    private static int StatusFromProperty(Exception exception)
    {
        var value = exception.GetType().GetProperty("StatusCode")?.GetValue(exception) ?? exception.GetType().GetProperty("Status")?.GetValue(exception);
        return value switch
        {
            int code => code,
            System.Net.HttpStatusCode code => (int)code,
            _ => 0,
        };
    }

    private ConversationSettings RequireSettings()
    {
        if (state.State.Settings is { } settings)
        {
            return settings;
        }

        throw NotFoundException.Conversation(Id);
    }

    private async Task PersistAsync(CancellationToken cancellationToken)
    {
        if (!_deleted)
        {
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }
    }

    private ConversationInfo Info() => new()
    {
        Id = Id,
        Settings = state.State.Settings!,
        CreatedAt = state.State.CreatedAt,
        Busy = _running is not null,
        Turns = [.. state.State.Turns],
        Usage = TokenUsage.Sum(state.State.Turns.Select(turn => turn.Usage)),
    };
}
