/**
 * The condition language's syntax tree, node for node as libsinsp's parser builds it (FILTER_LANGUAGE.md §1),
 * so the canonical printer and macro expansion behave like Falco's. Plain data: the parser makes it, the loader
 * rewrites identifiers into macro bodies, the compiler turns it into closures.
 *
 * Shared contract between the parser/compiler (src/engine/lang) and the rules loader (src/engine/loader):
 * additive changes only.
 */

/** Where the parser was when it made the node: 0-based offset, 1-based line and column. */
export interface Position {
  idx: number;
  line: number;
  col: number;
}

export type Expr = AndExpr | OrExpr | NotExpr | IdentifierExpr | UnaryCheckExpr | BinaryCheckExpr;
/** What can stand on either side of a check. */
export type FieldLike = FieldExpr | TransformerExpr;
/** Right-hand side of a binary check. */
export type CheckValue = ValueExpr | ListExpr | FieldLike | IdentifierExpr;
/** Arguments of a transformer. */
export type TransformerArg = FieldLike | ValueExpr | TransformerListExpr;

export interface AndExpr { kind: 'and'; children: Expr[]; pos: Position }
export interface OrExpr { kind: 'or'; children: Expr[]; pos: Position }
export interface NotExpr { kind: 'not'; child: Expr; pos: Position }
/** A bare word in check position is a macro reference; as an `in` RHS it is a list name that was not substituted. */
export interface IdentifierExpr { kind: 'identifier'; identifier: string; pos: Position }
export interface ValueExpr { kind: 'value'; value: string; pos: Position }
export interface ListExpr { kind: 'list'; values: string[]; pos: Position }
/** `field exists` */
export interface UnaryCheckExpr { kind: 'unary'; left: FieldLike; op: 'exists'; pos: Position }
/**
 * `left op right`; `op` is the operator as written ('=' and '==' stay distinct, as as_string keeps them),
 * `modifier` is oneof/anyof/allof when present (libs 0.25).
 */
export interface BinaryCheckExpr {
  kind: 'binary';
  left: FieldLike;
  op: string;
  modifier?: 'oneof' | 'anyof' | 'allof';
  right: CheckValue;
  pos: Position;
}
/** `name` or `name[arg]`; arg '' is `name[""]`, distinct from no arg (undefined). */
export interface FieldExpr { kind: 'field'; field: string; arg?: string; pos: Position }
/** `tolower(x)`, `val(x)` (RHS only), `getopt(x, "o:")[o]` … */
export interface TransformerExpr { kind: 'transformer'; transformer: string; values: TransformerArg[]; arg?: string; pos: Position }
export interface TransformerListExpr { kind: 'transformer_list'; children: TransformerArg[]; pos: Position }
