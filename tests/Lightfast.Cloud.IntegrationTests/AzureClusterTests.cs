using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Testing;
using Xunit.Abstractions;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>
/// A real cluster: three silo processes and a client-mode gateway process on Azurite (clustering, grain state
/// and reminders on Azure Tables), configured only by the environment variables the Aspire AppHost injects.
/// One silo is killed with SIGKILL under traffic.
/// </summary>
public sealed class AzureClusterTests(ITestOutputHelper output)
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task ThreeSilosAndAGatewayOnAzuriteKeepServingWhenOneSiloIsKilled()
    {
        var cancellation = GatewayFixture.Timeout(300);
        await using var azurite = await Azurite.StartAsync();
        await using var models = await ScriptedModelServer.StartAsync();
        var model = $"model-{Guid.NewGuid():N}";
        var cluster = new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = $"lightfast-{Guid.NewGuid():N}"[..24],
            ["Orleans__ServiceId"] = "lightfast",
            ["Orleans__Clustering__ProviderType"] = "AzureTableStorage",
            ["Orleans__Clustering__ServiceKey"] = "clustering",
            ["Orleans__GrainStorage__Default__ProviderType"] = "AzureTableStorage",
            ["Orleans__GrainStorage__Default__ServiceKey"] = "grainstate",
            ["Orleans__Reminders__ProviderType"] = "AzureTableStorage",
            ["Orleans__Reminders__ServiceKey"] = "reminders",
            ["ConnectionStrings__clustering"] = azurite.ConnectionString,
            ["ConnectionStrings__grainstate"] = azurite.ConnectionString,
            ["ConnectionStrings__reminders"] = azurite.ConnectionString,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Lightfast__AI__Providers__openai__Type"] = "OpenAI",
            ["Lightfast__AI__Providers__openai__Endpoint"] = new Uri(models.BaseAddress, "v1/").ToString(),
            ["Lightfast__AI__Providers__openai__ApiKey"] = "test-key-not-secret",
            ["Lightfast__AI__Providers__openai__Model"] = model,
        };

        var silos = new List<(ChildProcess Process, int SiloPort)>();
        await using var cleanup = new AsyncCleanup();
        for (var i = 0; i < 3; i++)
        {
            var (siloPort, gatewayPort) = (Repository.FreePort(), Repository.FreePort());
            var silo = ChildProcess.Start(
                "dotnet",
                [Repository.HostAssembly("Lightfast.Cloud.Silo"), "--urls", $"http://127.0.0.1:{Repository.FreePort()}"],
                new Dictionary<string, string>(cluster)
                {
                    ["Orleans__Endpoints__SiloPort"] = $"{siloPort}",
                    ["Orleans__Endpoints__GatewayPort"] = $"{gatewayPort}",
                    ["Orleans__Endpoints__AdvertisedIPAddress"] = "127.0.0.1",
                    ["Lightfast__Keeper__Interval"] = "00:00:02",
                });
            cleanup.Add(silo);
            silos.Add((silo, siloPort));
            await silo.WaitForPortAsync(gatewayPort, TimeSpan.FromSeconds(90));
        }

        var httpPort = Repository.FreePort();
        // A client gets what Aspire gives a client reference (orleans.AsClient()): the cluster and its clustering only.
        var client = cluster.Where(pair => !pair.Key.Contains("GrainStorage", StringComparison.Ordinal) && !pair.Key.Contains("Reminders", StringComparison.Ordinal)
            && pair.Key is not "ConnectionStrings__grainstate" and not "ConnectionStrings__reminders").ToDictionary();
        var gateway = ChildProcess.Start("dotnet", [Repository.GatewayAssembly, "--urls", $"http://127.0.0.1:{httpPort}"], client);
        cleanup.Add(gateway);
        await gateway.WaitForPortAsync(httpPort, TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        await GatewayFixture.WaitUntilAsync(gateway, async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellation)).StatusCode == HttpStatusCode.OK, "the gateway to reach the cluster", 90);

        var mcpPort = Repository.FreePort();
        var loopback = Path.Combine(Repository.McpServersDirectory, "loopback.mjs");
        var everything = Repository.NpmServerScript("server-everything");
        var remote = ChildProcess.Start("node", [loopback, everything, "streamableHttp"], new Dictionary<string, string> { ["PORT"] = $"{mcpPort}" });
        cleanup.Add(remote);
        await remote.WaitForPortAsync(mcpPort, TimeSpan.FromSeconds(30));

        await RegisterAsync(http, $$"""{"name":"remote","transport":"streamable-http","url":"http://127.0.0.1:{{mcpPort}}/mcp"}""", cancellation);
        await RegisterAsync(http, JsonSerializer.Serialize(new { name = "local", transport = "stdio", command = "node", args = new[] { everything, "stdio" } }), cancellation);
        Assert.Equal("Echo: a", await EchoAsync(http, "remote", "a", cancellation));
        Assert.Equal("Echo: b", await EchoAsync(http, "local", "b", cancellation));
        using var conversation = await http.PostAsync(new Uri("/api/v1/conversations", UriKind.Relative), Json("""{"systemPrompt":"kept across silo loss"}"""), cancellation);
        Assert.Equal(HttpStatusCode.Created, conversation.StatusCode);
        var conversationId = (await conversation.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetString();
        // A turn in which the model calls a tool of the fleet, through the cluster.
        models.Script(model, ScriptedReply.Call(("remote__echo", """{"message":"via the cluster"}""")), ScriptedReply.Say("The cluster echoed."));
        Assert.Equal("completed", (await SendAsync(http, conversationId, "Echo through the cluster.", cancellation)).GetProperty("status").GetString());

        // Names no server or conversation can have never become grain keys: Azure Tables refuse control characters in keys.
        foreach (var (path, code) in new[] { ("/api/v1/servers/tab%09name", "SERVER_NOT_FOUND"), ("/api/v1/servers/a%0Ab/tools/echo/call", "SERVER_NOT_FOUND"), ("/api/v1/conversations/line%0Abreak", "CONVERSATION_NOT_FOUND") })
        {
            using var response = path.EndsWith("/call", StringComparison.Ordinal)
                ? await http.PostAsync(new Uri(path, UriKind.Relative), Json("""{"arguments":{}}"""), cancellation)
                : await http.GetAsync(new Uri(path, UriKind.Relative), cancellation);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("code").GetString());
        }

        // The silo that hosts the stdio server is the one to kill.
        var servers = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/servers", UriKind.Relative), cancellation);
        var hostOfLocal = servers.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "local").GetProperty("silo").GetString()!;
        var victim = silos.Single(s => hostOfLocal.Contains($":{s.SiloPort}:", StringComparison.Ordinal));
        var stdioProcesses = ProcessTree.ChildrenOf(victim.Process.Id);

        // Traffic: calls through the gateway, all the time, each with its own deadline.
        using var stopTraffic = new CancellationTokenSource();
        var outcomes = new ConcurrentQueue<(TimeSpan At, bool Ok)>();
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var killedAt = TimeSpan.MaxValue;
        var traffic = Task.Run(async () =>
        {
            while (!stopTraffic.IsCancellationRequested)
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopTraffic.Token);
                deadline.CancelAfter(TimeSpan.FromSeconds(5));
                bool ok;
                try
                {
                    var answer = await EchoAsync(http, "remote", "traffic", deadline.Token);
                    ok = answer == "Echo: traffic";
                    if (!ok)
                    {
                        failures.Enqueue(answer ?? "(no code)");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    ok = false;
                    failures.Enqueue(ex.GetType().Name);
                }

                outcomes.Enqueue((clock.Elapsed, ok));
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);

        await Eventually.WaitAsync(() => outcomes.Count(o => o.Ok) >= 5, "traffic to flow", TimeSpan.FromSeconds(30));
        killedAt = clock.Elapsed;
        ProcessTree.Kill(victim.Process.Id);
        output.WriteLine($"killed silo pid {victim.Process.Id} (silo port {victim.SiloPort}), host of 'local'");

        // Requests recover: the first success after which every call succeeds.
        await Eventually.WaitAsync(
            () => outcomes.Where(o => o.At > killedAt).TakeLast(20) is var last && last.Count() == 20 && last.All(o => o.Ok),
            "20 calls in a row to succeed after the kill",
            TimeSpan.FromSeconds(120));
        var afterKill = outcomes.Where(o => o.At > killedAt).ToList();
        var lastFailure = afterKill.LastOrDefault(o => !o.Ok);
        var recovered = lastFailure == default ? TimeSpan.Zero : lastFailure.At - killedAt;

        // The running servers run again (the stdio one in a new process on a surviving silo), state intact.
        // Until the cluster has settled, the gateway may still answer 503 CLUSTER_UNAVAILABLE: that means "not yet".
        var local = await Eventually.WaitAsync(
            async () =>
            {
                using var response = await http.GetAsync(new Uri("/api/v1/servers/local", UriKind.Relative), cancellation);
                Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}");
                return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>(cancellation) : default;
            },
            s => s.ValueKind == JsonValueKind.Object && s.GetProperty("status").GetString() == "running" && s.GetProperty("silo").GetString() != hostOfLocal,
            "the stdio server to run on another silo",
            TimeSpan.FromSeconds(120));
        var backAt = clock.Elapsed - killedAt;
        await stopTraffic.CancelAsync();
        await traffic;

        Assert.Equal("Echo: c", await EchoAsync(http, "local", "c", cancellation));
        Assert.All(stdioProcesses, pid => Assert.False(ProcessTree.IsAlive(pid), $"the killed silo's stdio server {pid} is still alive"));
        var after = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/servers", UriKind.Relative), cancellation);
        Assert.Equal(["local", "remote"], after.EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.All(after.EnumerateArray(), s => Assert.Equal("running", s.GetProperty("status").GetString()));
        // The conversation goes on after the kill (wherever it lives now), with its first turn and tool result kept.
        models.Script(model, ScriptedReply.Say("Still here."));
        Assert.Equal("completed", (await SendAsync(http, conversationId, "Still there?", cancellation)).GetProperty("status").GetString());
        var kept = await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/conversations/{conversationId}", UriKind.Relative), cancellation);
        Assert.Equal("kept across silo loss", kept.GetProperty("settings").GetProperty("systemPrompt").GetString());
        var turns = kept.GetProperty("turns");
        Assert.Equal(["The cluster echoed.", "Still here."], turns.EnumerateArray().Select(t => t.GetProperty("finalText").GetString()));
        Assert.Contains("Echo: via the cluster", turns[0].GetProperty("steps")[0].GetProperty("toolCalls")[0].GetRawText(), StringComparison.Ordinal);

        var failed = afterKill.Count(o => !o.Ok);
        output.WriteLine($"failures: {string.Join(", ", failures.GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}"))}");

        // A silo being replaced is a 503 the client may retry (or a deadline of ours), never an internal error.
        Assert.DoesNotContain("INTERNAL_ERROR", failures);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after the kill: {afterKill.Count} calls, {failed} failed; calls succeed again {recovered.TotalSeconds:0.0} s after the kill; the stdio server ran again on {local.GetProperty("silo").GetString()} {backAt.TotalSeconds:0.0} s after the kill"));
    }

    private static async Task RegisterAsync(HttpClient http, string body, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json(body), cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, string? conversationId, string message, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri($"/api/v1/conversations/{conversationId}/messages", UriKind.Relative), Json(JsonSerializer.Serialize(new { message })), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    private static async Task<string?> EchoAsync(HttpClient http, string server, string message, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri($"/api/v1/servers/{server}/tools/echo/call", UriKind.Relative), Json(JsonSerializer.Serialize(new { arguments = new { message } })), cancellationToken);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return response.IsSuccessStatusCode ? json.GetProperty("content")[0].GetProperty("text").GetString() : json.GetProperty("code").GetString();
    }

    /// <summary>Stops the processes a test started, last first, gracefully when they are still running.</summary>
    private sealed class AsyncCleanup : IAsyncDisposable
    {
        private readonly Stack<ChildProcess> _processes = new();

        public void Add(ChildProcess process) => _processes.Push(process);

        public async ValueTask DisposeAsync()
        {
            while (_processes.TryPop(out var process))
            {
                if (!process.HasExited)
                {
                    await GatewayFixture.StopGracefullyAsync(process);
                }

                await process.DisposeAsync();
            }
        }
    }
}
