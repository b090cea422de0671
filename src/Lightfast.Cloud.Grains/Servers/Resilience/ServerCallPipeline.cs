using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Observability;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Lightfast.Cloud.Servers.Resilience;

/// <summary>
/// The Polly pipeline every tool call of one server goes through: retry (transient failures only, exponential
/// backoff with jitter) around a circuit breaker around a timeout per attempt. Each retry therefore counts in the
/// circuit, and an open circuit stops the retries at once.
/// </summary>
/// <remarks>
/// Grain code must resume on the grain's scheduler: the pipeline is always run with
/// <see cref="ResilienceContext.ContinueOnCapturedContext"/> set, which Polly's own awaits honour.
/// </remarks>
internal sealed class ServerCallPipeline
{
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();

    public ServerCallPipeline(string server, ServerResilience settings, TimeSpan callTimeout, LightfastMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        BreakDuration = settings.CircuitBreakDuration;
        var builder = new ResiliencePipelineBuilder { Name = $"mcp-server:{server}" };
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TransientCallException>(),
                MaxRetryAttempts = settings.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryDelay,
                OnRetry = args =>
                {
                    metrics.Retry(server);
                    ServersLog.RetryingCall(logger, server, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message);
                    return default;
                },
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            // A hanging server counts as much as an unreachable one; a tool's own error does not count.
            ShouldHandle = new PredicateBuilder().Handle<TransientCallException>().Handle<TimeoutRejectedException>(),
            FailureRatio = settings.CircuitFailureRatio,
            MinimumThroughput = settings.CircuitMinimumCalls,
            SamplingDuration = settings.CircuitSamplingDuration,
            BreakDuration = settings.CircuitBreakDuration,
            StateProvider = _circuit,
            OnOpened = args =>
            {
                metrics.Circuit(server, CircuitState.Open);
                ServersLog.CircuitOpened(logger, server, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message);
                return default;
            },
            OnHalfOpened = _ =>
            {
                metrics.Circuit(server, CircuitState.HalfOpen);
                ServersLog.CircuitHalfOpened(logger, server);
                return default;
            },
            OnClosed = _ =>
            {
                metrics.Circuit(server, CircuitState.Closed);
                ServersLog.CircuitClosed(logger, server);
                return default;
            },
        });
        builder.AddTimeout(callTimeout);
        _pipeline = builder.Build();
        metrics.Circuit(server, CircuitState.Closed);
    }

    public TimeSpan BreakDuration { get; }

    /// <summary>The circuit's state; an open circuit whose break is over is reported half-open by Polly only at the next call.</summary>
    public CircuitState Circuit => _circuit.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Open or Polly.CircuitBreaker.CircuitState.Isolated => CircuitState.Open,
        Polly.CircuitBreaker.CircuitState.HalfOpen => CircuitState.HalfOpen,
        _ => CircuitState.Closed,
    };

    /// <summary>
    /// Runs one call. Throws <see cref="BrokenCircuitException"/> while the circuit is open,
    /// <see cref="TimeoutRejectedException"/> when an attempt took too long (its token was cancelled, which
    /// cancels the MCP request), or the <see cref="TransientCallException"/> of the last attempt.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (context, attempt) => await attempt(context.CancellationToken).ConfigureAwait(true),
                context,
                attempt);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}

/// <summary>
/// A failure worth another attempt (connection refused or reset, HTTP 5xx or 429, a process that exited),
/// carrying the error to report if no attempt succeeds. Only the pipeline sees it.
/// </summary>
internal sealed class TransientCallException(LightfastException error)
    : Exception(error?.Message, error)
{
    public LightfastException Error { get; } = error!;
}
