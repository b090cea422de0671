using System.Text.Json;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Tests.Infrastructure;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Lightfast.Cloud.Tests.Servers;

[Collection(ClusterTestGroup.Name)]
public sealed class SerializationTests(ClusterFixture fixture)
{
    private T RoundTrip<T>(T value)
    {
        var serializer = fixture.Cluster.ServiceProvider.GetRequiredService<Serializer>();
        return serializer.Deserialize<T>(serializer.SerializeToArray(value))!;
    }

    [Fact]
    public void AServerDefinitionKeepsEveryFieldThroughOrleansSerialization()
    {
        var definition = new ServerDefinition
        {
            Name = "everything",
            Description = "d",
            Transport = McpTransportKind.Stdio,
            Command = "node",
            Args = ["a", "b"],
            Env = new Dictionary<string, string> { ["KEY"] = "value" },
            WorkingDirectory = "/tmp",
            CallTimeout = TimeSpan.FromSeconds(7),
            Enabled = false,
            Tags = ["t"],
        };

        var copy = RoundTrip(definition);

        Assert.Equal(definition.Name, copy.Name);
        Assert.Equal(definition.Args, copy.Args);
        Assert.Equal("value", copy.Env["KEY"]);
        Assert.Equal(definition.CallTimeout, copy.CallTimeout);
        Assert.False(copy.Enabled);
        Assert.Equal(definition.Tags, copy.Tags);
    }

    [Fact]
    public void ErrorsKeepTheirCodeCategoryDetailsAndProblems()
    {
        var validation = RoundTrip(new ValidationException([new ValidationError("servers[0].url", "bad")]));
        Assert.Equal(ErrorCodes.ValidationFailed, validation.Code);
        Assert.Equal("servers[0].url", Assert.Single(validation.Errors).Path);

        var tool = RoundTrip(new ToolExecutionException(ErrorCodes.ToolTimeout, ErrorCategory.Timeout, "s", "t", "slow"));
        Assert.Equal(ErrorCategory.Timeout, tool.Category);
        Assert.Equal("t", tool.Details["tool"]);
        Assert.Equal("slow", tool.Message);
    }

    [Fact]
    public void ToolResultsSerializeForOrleansAndAsRealJsonForTheApi()
    {
        var result = new ToolCallResult
        {
            Server = "s",
            Tool = "t",
            Content = [new ToolContent { Kind = ToolContentKind.Image, Data = "AAAA", MimeType = "image/png" }],
            StructuredContent = """{"temperature":21}""",
        };

        var copy = RoundTrip(result);
        Assert.Equal("image/png", copy.Content.Single().MimeType);

        var json = JsonSerializer.Serialize(copy);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(21, document.RootElement.GetProperty("StructuredContent").GetProperty("temperature").GetInt32());
        var back = JsonSerializer.Deserialize<ToolCallResult>(json)!;
        Assert.Equal("""{"temperature":21}""", back.StructuredContent);
    }
}
