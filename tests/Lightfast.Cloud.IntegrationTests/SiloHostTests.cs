using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>
/// The silo host configured only through Orleans' own configuration keys (as environment variables, the way
/// Aspire and Azure Container Apps set them), and the gateway as a pure Orleans client of it.
/// </summary>
public sealed class SiloHostTests
{
    [Fact]
    public async Task ASiloConfiguredOnlyFromConfigurationHostsServersForAClientModeGatewayAndEndsThemOnShutdown()
    {
        var cancellation = GatewayFixture.Timeout(120);
        var siloPort = Repository.FreePort();
        var gatewayPort = Repository.FreePort();
        var siloHttpPort = Repository.FreePort();
        var httpPort = Repository.FreePort();
        var cluster = new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = $"lightfast-test-{Guid.NewGuid():N}",
            ["Orleans__ServiceId"] = "lightfast",
            ["Orleans__Clustering__ProviderType"] = "Development",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        await using var silo = ChildProcess.Start(
            "dotnet",
            [Repository.HostAssembly("Lightfast.Cloud.Silo"), "--urls", $"http://127.0.0.1:{siloHttpPort}"],
            new Dictionary<string, string>(cluster)
            {
                ["Orleans__GrainStorage__Default__ProviderType"] = "Memory",
                ["Orleans__Reminders__ProviderType"] = "Memory",
                ["Orleans__Endpoints__SiloPort"] = $"{siloPort}",
                ["Orleans__Endpoints__GatewayPort"] = $"{gatewayPort}",
                ["Orleans__Endpoints__AdvertisedIPAddress"] = "127.0.0.1",
            });
        await silo.WaitForPortAsync(gatewayPort, TimeSpan.FromSeconds(60));

        await using var gateway = ChildProcess.Start(
            "dotnet",
            [Repository.GatewayAssembly, "--urls", $"http://127.0.0.1:{httpPort}"],
            new Dictionary<string, string>(cluster) { ["Orleans__Clustering__Gateways__0"] = $"127.0.0.1:{gatewayPort}" });
        await gateway.WaitForPortAsync(httpPort, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };

        using var siloHealth = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await siloHealth.GetAsync(new Uri($"http://127.0.0.1:{siloHttpPort}/health/ready"), cancellation)).StatusCode);
        await GatewayFixture.WaitUntilAsync(
            gateway,
            async () =>
            {
                using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellation);
                return ready.StatusCode == HttpStatusCode.OK;
            },
            "the client-mode gateway to be ready");

        var body = JsonSerializer.Serialize(new
        {
            name = "everything",
            transport = "stdio",
            command = "node",
            args = new[] { Repository.NpmServerScript("server-everything"), "stdio" },
        });
        using var created = await http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var call = await http.PostAsync(
            new Uri("/api/v1/servers/everything/tools/echo/call", UriKind.Relative),
            new StringContent("""{"arguments":{"message":"through the cluster"}}""", Encoding.UTF8, "application/json"),
            cancellation);
        var result = await call.Content.ReadFromJsonAsync<JsonElement>(cancellation);
        Assert.Equal("Echo: through the cluster", result.GetProperty("content")[0].GetProperty("text").GetString());

        // No AI provider is configured here: conversations can be created, chat answers 503, the rest works.
        using var conversation = await http.PostAsync(new Uri("/api/v1/conversations", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"), cancellation);
        Assert.Equal(HttpStatusCode.Created, conversation.StatusCode);
        var conversationId = (await conversation.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetString();
        using var chat = await http.PostAsync(
            new Uri($"/api/v1/conversations/{conversationId}/messages", UriKind.Relative),
            new StringContent("""{"message":"hello"}""", Encoding.UTF8, "application/json"),
            cancellation);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, chat.StatusCode);
        Assert.Equal("AI_PROVIDER_NOT_CONFIGURED", (await chat.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("code").GetString());

        // The stdio server is a child of the silo, not of the gateway: the gateway holds no connection.
        var serverProcesses = ProcessTree.ChildrenOf(silo.Id);
        Assert.Single(serverProcesses);
        Assert.Empty(ProcessTree.ChildrenOf(gateway.Id));

        // Stopping the silo the way a container runtime does ends its stdio servers: no orphan is left.
        await GatewayFixture.StopGracefullyAsync(silo);
        Assert.True(silo.HasExited, "the silo did not stop within 20 s of SIGTERM");
        Assert.False(Directory.Exists($"/proc/{serverProcesses[0]}"), $"process {serverProcesses[0]} outlived its silo");
        await GatewayFixture.StopGracefullyAsync(gateway);
    }
}
