using Lightfast.Cloud.Tools;

namespace Lightfast.Cloud.Tests.Tools;

public sealed class ToolNameQualifierTests
{
    [Fact]
    public void AcceptableNamesAreServerThenTwoUnderscoresThenTool()
    {
        Assert.Equal("everything__echo", ToolNameQualifier.Qualify("everything", "echo"));
        Assert.Equal("memory__read_graph", ToolNameQualifier.Qualify("memory", "read_graph"));
    }

    [Fact]
    public void TheSameToolOnTwoServersGetsTwoNames()
    {
        Assert.NotEqual(ToolNameQualifier.Qualify("a", "echo"), ToolNameQualifier.Qualify("b", "echo"));
    }

    [Theory]
    [InlineData("files", "read.file")]
    [InlineData("files", "read file")]
    [InlineData("files", "lire_été")]
    [InlineData("a-very-long-server-name-that-goes-on-and-on", "and-a-tool-name-that-is-also-far-too-long-for-providers")]
    public void OddOrLongNamesAreShortenedDeterministicallyIntoTheAcceptedPattern(string server, string tool)
    {
        var first = ToolNameQualifier.Qualify(server, tool);
        var second = ToolNameQualifier.Qualify(server, tool);

        Assert.Equal(first, second);
        Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", first);
        Assert.StartsWith(server[..Math.Min(server.Length, 10)], first, StringComparison.Ordinal);
    }

    [Fact]
    public void NamesThatSanitizeAlikeStayDistinct()
    {
        var dotted = ToolNameQualifier.Qualify("files", "read.file");
        var spaced = ToolNameQualifier.Qualify("files", "read file");
        var plain = ToolNameQualifier.Qualify("files", "read_file");

        Assert.Equal(3, new[] { dotted, spaced, plain }.Distinct().Count());
        Assert.Equal("files__read_file", plain);
    }

    [Fact]
    public void LongNamesThatShareAPrefixStayDistinct()
    {
        var prefix = new string('x', 70);
        Assert.NotEqual(ToolNameQualifier.Qualify("s", prefix + "1"), ToolNameQualifier.Qualify("s", prefix + "2"));
    }
}
