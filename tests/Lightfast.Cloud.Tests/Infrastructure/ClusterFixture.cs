using Lightfast.Cloud.Conversations.Providers;
using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Lightfast.Cloud.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans test cluster hosting the Lightfast grains, with grain storage that survives silo
/// restarts, an in-process MCP server, server-everything from npm over stdio registered in the default registry,
/// and a scripted model server behind the OpenAI, Azure OpenAI and Anthropic providers.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>The name under which server-everything (stdio) is registered in the default registry.</summary>
    public const string Everything = "everything";

    /// <summary>The name under which the in-process test MCP server is registered in the default registry.</summary>
    public const string TestServer = "test-tools";

    private static ScriptedModelServer? _modelServer;

    public TestCluster Cluster { get; private set; } = null!;

    public TestMcpServer McpServer { get; private set; } = null!;

    public ScriptedModelServer ModelServer { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        McpServer = await TestMcpServer.StartAsync();
        ModelServer = await ScriptedModelServer.StartAsync();
        _modelServer = ModelServer;
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1 } };
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        var registry = Grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey);
        var everything = Repository.NpmServerScript("server-everything");
        await registry.ImportAsync(
        [
            new ServerDefinition { Name = Everything, Transport = McpTransportKind.Stdio, Command = "node", Args = [everything, "stdio"] },
            new ServerDefinition { Name = TestServer, Transport = McpTransportKind.StreamableHttp, Url = McpServer.McpEndpoint },
        ]);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await McpServer.DisposeAsync();
        await ModelServer.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddGrainStorage("Default", (sp, _) => new SharedGrainStorage("cluster", sp.GetRequiredService<DeepCopier>()));
            siloBuilder.Services.AddLightfastGrains();
            var models = _modelServer ?? throw new InvalidOperationException("The model server starts before the cluster.");
            siloBuilder.Services.Configure<AiOptions>(options =>
            {
                options.DefaultProvider = "openai";
                options.Providers["openai"] = new AiProviderOptions { Type = AiProviderType.OpenAI, Endpoint = new Uri(models.BaseAddress, "v1/"), ApiKey = "test-key", Model = "default-model", MaxRetries = 2 };
                options.Providers["azure"] = new AiProviderOptions { Type = AiProviderType.AzureOpenAI, Endpoint = models.BaseAddress, ApiKey = "test-key", MaxRetries = 2 };
                options.Providers["anthropic"] = new AiProviderOptions { Type = AiProviderType.Anthropic, Endpoint = models.BaseAddress, ApiKey = "test-key", MaxRetries = 2 };
            });
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterTestGroup : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
