using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lightfast.Cloud.Tools;

/// <summary>
/// Writes a string property that holds JSON text (a schema, structured content) as the JSON value itself rather
/// than as an escaped string, and reads any JSON value back into text. Grains keep such values as text so that
/// they serialize without the MCP SDK's types; API clients see real JSON.
/// </summary>
public sealed class RawJsonConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // Re-written through the writer, so the output follows its formatting (compact for SSE data lines).
        using var document = JsonDocument.Parse(value);
        document.RootElement.WriteTo(writer);
    }
}
