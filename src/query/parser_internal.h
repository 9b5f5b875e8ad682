#pragma once
// Internal to the query layer: the cursor over a search's text that commands' syntaxes read their
// arguments with (command_syntax.h, or a command's own parse function in its registry entry).
// The parser (parser.cc) implements it; a CommandParser lives for one ParseSpl call. Not part of
// the public API.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/ast.h"

namespace cairn::query::internal {

// A token of the search text. In search mode (Peek): words (anything up to white space or one of
// ( ) | [ ] , " = < >), quoted strings (unquoted text), punctuation ( ) | [ ] , and comparison
// operators. In eval mode (PeekEval): also numbers, 'quoted field names' (kField) and arithmetic
// operators, words being names made of word characters, dots and {}.
struct Token {
  enum Kind { kEnd, kWord, kString, kPunct, kOp, kNumber, kField };
  Kind kind = kEnd;
  std::string text;
  size_t offset = 0;  // where it starts in the search text
  size_t end = 0;     // where it ends
  bool Is(Kind k, std::string_view t) const { return kind == k && text == t; }
  // A word equal to `t` (lower case) ignoring case.
  bool IsWordCI(std::string_view t) const;
};

// The error for bad syntax at `offset`: InvalidArgument "at offset N: <message>".
Status SyntaxError(size_t offset, std::string_view message);

class CommandParser {
 public:
  virtual ~CommandParser() = default;

  // The next token in search mode, without taking it. An unterminated quoted string gives kEnd;
  // CheckQuote then returns its error.
  virtual Token Peek() = 0;
  // The next token in eval mode, without taking it.
  virtual Token PeekEval() = 0;
  // Moves past `t` (a token just peeked).
  virtual void Take(const Token& t) = 0;
  // The error for an unterminated quoted string met by Peek, else Ok.
  virtual Status CheckQuote() = 0;

  // Whether the command's arguments end here (end of text, '|' or the ']' closing a subsearch).
  virtual bool AtCommandEnd() = 0;
  // An error naming the next token unless AtCommandEnd.
  virtual Status ExpectCommandEnd() = 0;
  // Takes `key=value` (no space before '=') into `options` (key lower-cased) and returns true;
  // returns false, taking nothing, when the next tokens are not an option.
  virtual Result<bool> TryOption(std::map<std::string, std::string>* options) = 0;
  // Takes a field name (a word or a quoted string); `what` names it in the error.
  virtual Result<std::string> FieldName(const char* what) = 0;
  // When '(' follows the last token taken with no space between, takes the text up to the next
  // ')' and the ')' and returns the text; else nullopt. An error when no ')' follows.
  virtual Result<std::optional<std::string>> TakeParenthesized() = 0;

  // The implicit search's expression (search-mode terms, AND/OR/NOT, field comparisons) up to
  // the command's end.
  virtual Result<SearchPtr> ParseSearch() = 0;
  // An eval expression.
  virtual Result<ExprPtr> ParseExpression() = 0;
  // A subsearch: the pipeline after a '[' just taken (at `open`), and its ']'.
  virtual Result<std::shared_ptr<Pipeline>> ParseSubsearch(size_t open) = 0;
};

}  // namespace cairn::query::internal
