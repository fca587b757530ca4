# Страницы сообщений: список, форма, предпросмотр, удаление.
messages-title = Сообщения
messages-count = { $count ->
    [one] { $count } сообщение готово
    [few] { $count } сообщения готовы
   *[many] { $count } сообщений готово
} для ваших рассылок.
messages-search-placeholder = Поиск по теме или тексту
messages-search-label = Поиск сообщений
messages-write = Написать сообщение
messages-col-subject = Тема
messages-col-mailings = Рассылки
messages-col-text = Текст
messages-col-created = Создано
messages-col-updated = Изменено
messages-col-actions = Действия
messages-preview = Предпросмотр
messages-edit = Изменить
messages-delete = Удалить
messages-cancel = Отмена
messages-none-match = Нет сообщений по запросу «{ $query }».
messages-show-all = Показать все
messages-empty = У вас пока нет сообщений.
messages-empty-hint = Сообщение — это тема и текст, которые отправляет рассылка. Напишите сообщение, а затем используйте его в рассылке.

# Форма.
messages-write-title = Новое сообщение
messages-edit-title = Изменение сообщения
messages-field-subject = Тема
messages-field-body = Текст
messages-field-body-help = Markdown (**жирный**, [ссылки](https://…), списки); переносы строк сохраняются. Подставляйте данные: {"{{"} client.full_name {"}}"}, {"{{"} client.email {"}}"}, {"{{"} client.comment {"}}"}, {"{{"} sender.name {"}}"}, {"{{"} today {"}}"}; значение на случай пустого поля: {"{{"} client.full_name | default("друг") {"}}"}.
messages-save = Сохранить
messages-save-new = Сохранить сообщение

# Предпросмотр.
messages-preview-lead = Сообщение в том виде, в каком его увидит получатель.
messages-all = Все сообщения
messages-preview-label = Предпросмотр письма
messages-preview-for = Показать для
messages-preview-show = Показать
messages-preview-sample = Клиентов пока нет: в предпросмотре используется пример получателя.
messages-header-from = От
messages-header-reply-to = Ответ на адрес
messages-header-to = Кому
messages-header-subject = Тема
# Перед текстом ошибки.
messages-preview-error = Это сообщение не удаётся подготовить для этого клиента:
messages-test-send = Отправить тест себе
messages-test-note = Сразу уходит на { $email } в том виде, в каком его получит этот клиент, с пометкой «[Test]»; в отчётах не учитывается (не больше { $count } за 10 минут).
messages-preview-html-part = HTML-часть письма
messages-preview-text-part = Обычный текст
messages-preview-template = Шаблон
# Перед датой и временем.
messages-created = Создано
messages-updated = изменено
messages-mailings-title = Рассылки, которые его отправляют
messages-mailings-none = Это сообщение пока не используется ни в одной рассылке.

# Удаление.
messages-delete-title = Удаление сообщения
messages-delete-question = Удалить «{ $subject }»?
messages-delete-blocked = { $count ->
    [1] Это сообщение используется в рассылке { $mailings }. Сначала удалите её или назначьте ей другое сообщение.
   *[other] Это сообщение используется в рассылках { $mailings }. Сначала удалите их или назначьте им другое сообщение.
}
messages-back-to-message = Назад к сообщению
messages-delete-explanation = Сообщение будет удалено навсегда. Ни одна рассылка его не использует; история доставки останется в ваших отчётах.
messages-delete-confirm = Да, удалить

## Problems written in Rust, with values
messages-in-use = Это сообщение используется { $count ->
        [one] в рассылке { $names }. Удалите её или выберите для неё другое сообщение.
       *[other] в рассылках { $names }. Удалите их или выберите для них другое сообщение.
    }
messages-test-cannot-render = Сообщение не удаётся собрать: { $reason }
messages-test-not-sent = Тестовое письмо не отправлено: { $reason }

## Mistakes in a message's templates (MiniJinja's own words only where no text fits)
messages-template-at = Строка { $line }, столбец { $column }: { $problem }
messages-template-unknown-variable = Неизвестная переменная `{ $name }`. Можно использовать { $variables }.
messages-template-unknown-variable-but = Неизвестная переменная `{ $name }`. Может быть, вы имели в виду { $suggestion }?
messages-template-client-has-no = У `client` нет `{ $name }`. Значения клиента: client.full_name, client.email, client.comment и client.attributes.<имя>.
messages-template-client-has-no-but = У `client` нет `{ $name }` (может быть, { $suggestion }?). Значения клиента: client.full_name, client.email, client.comment и client.attributes.<имя>.
messages-template-sender-has-no = У `sender` нет `{ $name }`. Значения отправителя: sender.name, sender.email и sender.postal.
messages-template-foreign = `{ $typed }` будет отправлено как есть. Чтобы вставить значение клиента, напишите { $suggestion }.
messages-template-too-long = { $part ->
        [subject] Тема после подстановки слишком длинная
       *[body] Текст после подстановки слишком длинный
    } ({ $size } КБ; не больше { $max } КБ).
messages-template-out-of-fuel = Этот шаблон делает слишком много работы (слишком долгий цикл или макрос, вызывающий сам себя): упростите его.
messages-template-no-include = В сообщениях нельзя подключать, импортировать или расширять другие шаблоны.
messages-template-undefined = Здесь используется значение, которого нет. Задайте запасное через `| default("…")` или используйте одно из: { $variables }.
messages-template-too-deep = Этот шаблон вложен слишком глубоко (макрос вызывает сам себя?).
messages-template-unknown-name = { $kind ->
        [filter] Неизвестный фильтр
        [test] Неизвестный тест
        [method] Неизвестный метод
       *[function] Неизвестная функция
    } `{ $name }`.
messages-template-unknown-method = У этого значения нет такого метода.
messages-template-too-many-arguments = Фильтру или функции передано слишком много аргументов.
messages-template-missing-argument = Не хватает аргумента фильтра или функции.
messages-template-cannot-unpack = Эти значения нельзя разложить на столько имён.
messages-template-syntax = Синтаксическая ошибка (описание MiniJinja, по-английски): { $detail }.
messages-template-other = Шаблон не удаётся отобразить (описание MiniJinja, по-английски): { $detail }.
