using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Tools;

namespace Lightfast.Cloud.Tests.Tools;

public sealed class ToolArgumentsTests
{
    private static readonly ToolDescriptor Tool = new()
    {
        Name = "add",
        InputSchema = """
            {"type":"object","properties":{"a":{"type":"number"},"b":{"type":"integer"},"mode":{"type":"string","enum":["fast","slow"]}},
             "required":["a","b"],"additionalProperties":false}
            """,
    };

    [Fact]
    public void ValidArgumentsAreParsedIntoADictionary()
    {
        var arguments = ToolArguments.Parse("""{"a": 1.5, "b": 2, "mode": "fast"}""", "math", Tool);
        Assert.Equal(3, arguments.Count);
    }

    [Fact]
    public void NoArgumentsAreAcceptedWhenNothingIsRequired()
    {
        var open = Tool with { InputSchema = """{"type":"object","properties":{}}""" };
        Assert.Empty(ToolArguments.Parse(null, "s", open));
        Assert.Empty(ToolArguments.Parse("null", "s", open));
    }

    [Fact]
    public void EveryProblemIsReportedAsInvalidArguments()
    {
        var error = Assert.Throws<ToolExecutionException>(() => ToolArguments.Parse("""{"a": "one", "mode": "medium", "c": true}""", "math", Tool));

        Assert.Equal(ErrorCodes.ToolInvalidArguments, error.Code);
        Assert.Equal(ErrorCategory.Unprocessable, error.Category);
        Assert.Contains("arguments.b: is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("arguments.a: expected number, got a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("arguments.mode: must be one of", error.Message, StringComparison.Ordinal);
        Assert.Contains("arguments.c: is not a parameter of this tool", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{not json")]
    public void ArgumentsThatAreNotAJsonObjectAreRefused(string json)
    {
        var error = Assert.Throws<ToolExecutionException>(() => ToolArguments.Parse(json, "math", Tool));
        Assert.Equal(ErrorCodes.ToolInvalidArguments, error.Code);
    }

    [Fact]
    public void AnIntegerParameterRefusesAFraction()
    {
        var error = Assert.Throws<ToolExecutionException>(() => ToolArguments.Parse("""{"a": 1, "b": 2.5}""", "math", Tool));
        Assert.Contains("arguments.b: expected integer", error.Message, StringComparison.Ordinal);
    }
}
