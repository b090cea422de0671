using System.Collections.Concurrent;
using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace Lightfast.Cloud.Testing;

/// <summary>
/// A real MCP server (the MCP C# SDK over streamable HTTP, on Kestrel at 127.0.0.1 on a free port) with tools
/// that let tests prove concurrency without timing: <c>rendezvous</c> only answers once <c>count</c> calls of
/// the same group are in flight together. Paths <c>/gated/{id}/mcp</c> hold each id's first request until
/// <see cref="StartGate"/> has seen the expected number of ids arrive, which proves that servers start together.
/// Stateful (sessions, notifications) when asked: then <c>add_tool</c> adds a tool at runtime, which sends
/// <c>notifications/tools/list_changed</c>, and a server started again on the same port has forgotten every session.
/// </summary>
public sealed class TestMcpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private int _sessionsEnded;

    private TestMcpServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    /// <summary>How many MCP sessions clients ended (HTTP DELETE).</summary>
    public int SessionsEnded => Volatile.Read(ref _sessionsEnded);

    /// <summary>How many MCP sessions were initialized through <see cref="GatedEndpoint"/> of each id.</summary>
    public ConcurrentDictionary<string, int> Initializations { get; } = new();

    public Uri McpEndpoint => new(BaseAddress, "/mcp");

    /// <summary>When set, holds the first request of each id on <see cref="GatedEndpoint"/> until enough ids arrived.</summary>
    public StartGate? Gate { get; set; }

    public Uri GatedEndpoint(string id) => new(BaseAddress, $"/gated/{id}/mcp");

    /// <summary>Starts a server on <paramref name="port"/> (0: a free one); stateful servers keep MCP sessions.</summary>
    public static async Task<TestMcpServer> StartAsync(int port = 0, bool stateful = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var mcp = builder.Services.AddMcpServer().WithHttpTransport(options => options.Stateless = !stateful).WithTools<TestTools>();
        if (stateful)
        {
            mcp.WithTools<DynamicTools>();
        }

        var app = builder.Build();
        TestMcpServer? server = null;
        app.Use(async (context, next) =>
        {
            if (server is not null && HttpMethods.IsDelete(context.Request.Method))
            {
                Interlocked.Increment(ref server._sessionsEnded);
            }

            var segments = context.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (segments is ["gated", var id, "mcp"])
            {
                if (server is not null && HttpMethods.IsPost(context.Request.Method))
                {
                    context.Request.EnableBuffering();
                    using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
                    var body = await reader.ReadToEndAsync(context.RequestAborted);
                    context.Request.Body.Position = 0;
                    if (body.Contains("\"method\":\"initialize\"", StringComparison.Ordinal))
                    {
                        server.Initializations.AddOrUpdate(id, 1, (_, count) => count + 1);
                    }
                }

                if (server?.Gate is { } gate)
                {
                    await gate.ArriveAsync(id, context.RequestAborted);
                }

                context.Request.Path = "/mcp";
            }

            await next(context);
        });
        app.UseRouting();
        app.MapMcp("/mcp");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new TestMcpServer(app, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Releases everyone once <c>expected</c> distinct ids have arrived; fails them if that takes too long.</summary>
public sealed class StartGate(int expected, TimeSpan timeout)
{
    private readonly ConcurrentDictionary<string, bool> _arrived = new();
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int MaxSimultaneous => _arrived.Count;

    public async Task ArriveAsync(string id, CancellationToken cancellationToken)
    {
        if (!_arrived.TryAdd(id, true))
        {
            return; // only the first request of each server (initialize) waits
        }

        if (_arrived.Count >= expected)
        {
            _open.TrySetResult();
        }

        await _open.Task.WaitAsync(timeout, cancellationToken);
    }
}

/// <summary>Tools of a stateful test server only.</summary>
[McpServerToolType]
public sealed class DynamicTools
{
    [McpServerTool(Name = "add_tool"), Description("Adds a tool named `name` that answers with its name and the text.")]
    public static string AddTool(McpServer server, string name)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.ServerOptions.ToolCollection!.Add(McpServerTool.Create(
            (string text) => $"{name}: {text}",
            new McpServerToolCreateOptions { Name = name, Description = "Added at runtime." }));
        return $"added {name}";
    }
}

[McpServerToolType]
public sealed class TestTools
{
    private static readonly ConcurrentDictionary<string, Rendezvous> Groups = new();

    public static ConcurrentDictionary<string, bool> CancelledSleeps { get; } = new();

    public static ConcurrentDictionary<string, int> StartedSleeps { get; } = new();

    public static ConcurrentDictionary<string, int> Records { get; } = new();

    [McpServerTool(Name = "fail"), Description("Counts the call under `key`, then fails (a tool error, isError).")]
    public static string Fail(string key)
    {
        Records.AddOrUpdate(key, 1, (_, count) => count + 1);
        throw new InvalidOperationException($"failing on purpose ({key})");
    }

    [McpServerTool(Name = "record"), Description("Counts a write under `key` and returns the new count.")]
    public static int Record(string key) => Records.AddOrUpdate(key, 1, (_, count) => count + 1);

    [McpServerTool(Name = "echo"), Description("Returns the text.")]
    public static string Echo(string text) => text;

    [McpServerTool(Name = "rendezvous"), Description("Answers once `count` calls of the same group are in flight together.")]
    public static async Task<string> RendezvousAsync(string group, int count, CancellationToken cancellationToken)
    {
        var rendezvous = Groups.GetOrAdd(group, _ => new Rendezvous(count));
        var arrived = rendezvous.Arrive();
        try
        {
            await rendezvous.All.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"only {rendezvous.Arrived} of {count} calls were ever in flight together");
        }

        return $"{arrived} of {count}";
    }

    [McpServerTool(Name = "sleep"), Description("Sleeps, and records whether it was cancelled.")]
    public static async Task<string> SleepAsync(string id, int milliseconds, CancellationToken cancellationToken)
    {
        StartedSleeps.AddOrUpdate(id, 1, (_, count) => count + 1);
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
            return "slept";
        }
        catch (OperationCanceledException)
        {
            CancelledSleeps[id] = true;
            throw;
        }
    }

    private sealed class Rendezvous(int count)
    {
        private int _arrived;
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task All => _all.Task;

        public int Arrived => Volatile.Read(ref _arrived);

        public int Arrive()
        {
            var arrived = Interlocked.Increment(ref _arrived);
            if (arrived >= count)
            {
                _all.TrySetResult();
            }

            return arrived;
        }
    }
}
